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
