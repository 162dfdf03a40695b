using TorchSerial.Pickle;
using TorchSerial.Python;
using TorchSerial.Tensors;
using static TorchSerial.Pickle.PickleArgs;

namespace TorchSerial.Torch;

/// <summary>
/// A tensor in the form torch wrote before 0.4: a tensor class called with no arguments (torch.FloatTensor(),
/// torch.Tensor()), then given its contents by BUILD. The state is <c>(storage, storage_offset, size, stride)</c>,
/// or the old Variable's 5-tuple whose item 0 is the data and item 3 requires_grad, which Tensor.__setstate__ still
/// reads. The object exists between the call and the BUILD; the reader puts the tensor in its place afterwards.
/// </summary>
internal sealed class LegacyTensor
{
    public LegacyTensor(string className) { ClassName = className; }

    public string ClassName { get; }

    /// <summary>The tensor once BUILD has given the state; null before.</summary>
    public Tensor? Built { get; private set; }

    public void SetState(object? state)
    {
        var s = Tuple(state, $"{ClassName} state");
        Built = s.Count switch
        {
            4 => FromStorage(s),
            5 => FromVariable(s),
            _ => throw Bad($"{ClassName} state has {s.Count} items; torch reads a 4-tuple (storage, storage_offset, " +
                "size, stride) or an old Variable's 5-tuple."),
        };
    }

    private Tensor FromStorage(PyTuple s)
    {
        var storage = s[0] as Storage ?? throw Bad($"{ClassName} state should start with a storage but has " +
            $"{Describe(s[0])}.");
        return new Tensor(storage, storage.DType, Long(s[1], "storage_offset"), LongSequence(s[2], "size"),
            LongSequence(s[3], "stride"));
    }

    private Tensor FromVariable(PyTuple s)
    {
        var data = s[0] switch
        {
            Tensor t => t,
            LegacyTensor { Built: { } b } => b,
            _ => throw Bad($"An old Variable's state should start with its data tensor but has {Describe(s[0])}."),
        };
        var t2 = data.WithName(data.Name);
        t2.RequiresGrad = Bool(s[3], "requires_grad");
        return t2;
    }

    public override string ToString() => Built?.ToString() ?? $"{ClassName}() awaiting its state";
}
