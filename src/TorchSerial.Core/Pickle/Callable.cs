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

    /// <summary>
    /// True when <see cref="Call"/> only reads its argument tuple and keeps no reference to it (torch's rebuild
    /// functions): the VM may then hand it a reused tuple instead of a new one (<see cref="Unpickler"/>).
    /// </summary>
    public bool BorrowsArgs { get; init; }
    public override string ToString() => FullName;
}
