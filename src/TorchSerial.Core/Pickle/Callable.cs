using TorchSerial.Python;

namespace TorchSerial.Pickle;

/// <summary>
/// A global TorchSerial models in C#: what a REDUCE (call) or NEWOBJ (instantiate) of it produces.
/// This is the only way a pickle's call turns into anything but an inert record, and every
/// implementation only builds data.
/// </summary>
internal sealed class Callable
{
    public Callable(string fullName, Func<PyTuple, object?> call, Func<PyTuple, object?>? newObject = null)
    {
        FullName = fullName;
        Call = call;
        NewObject = newObject ?? call;
    }

    public string FullName { get; }
    public Func<PyTuple, object?> Call { get; }
    public Func<PyTuple, object?> NewObject { get; }
    public override string ToString() => FullName;
}

/// <summary>The storage class a persistent id names: <c>torch.FloatStorage</c>, <c>torch.storage.UntypedStorage</c>, …</summary>
internal sealed class StorageType
{
    public StorageType(DType dtype, bool untyped) { DType = dtype; IsUntyped = untyped; }
    public DType DType { get; }
    public bool IsUntyped { get; }
}

/// <summary>What a rebuild function returns for a tensor layout TorchSerial does not load (sparse, nested, meta, …).</summary>
internal sealed class UnsupportedTensor
{
    public UnsupportedTensor(string feature) { Feature = feature; }
    public string Feature { get; }
}
