namespace TorchSerial.Errors;

/// <summary>Short constructors for the exceptions the core throws most often.</summary>
internal static class Fail
{
    public static TorchSerialException Data(string errorId, string message, string? record = null, long? offset = null)
        => new(errorId, ErrorKind.InvalidData, message) { Record = record, Offset = offset };

    public static TorchSerialException Unsupported(string errorId, string message, string? record = null)
        => new(errorId, ErrorKind.NotImplemented, message) { Record = record };
}
