namespace TorchSerial.Errors;

/// <summary>
/// The one exception type the core throws for bad input or an impossible request. It carries a
/// stable <see cref="ErrorId"/> (see <see cref="ErrorIds"/>) and a <see cref="Kind"/> so that the
/// PowerShell layer can build an ErrorRecord without parsing messages.
/// </summary>
public sealed class TorchSerialException : Exception
{
    public TorchSerialException(string errorId, ErrorKind kind, string message, Exception? inner = null)
        : base(message, inner)
    {
        ErrorId = errorId;
        Kind = kind;
    }

    /// <summary>Stable, PascalCase identifier of the failure; part of the public contract.</summary>
    public string ErrorId { get; }

    /// <summary>The broad class of failure (maps onto PowerShell's ErrorCategory).</summary>
    public ErrorKind Kind { get; }

    /// <summary>The record inside the container where the problem was found, when known.</summary>
    public string? Record { get; init; }

    /// <summary>Byte offset inside the pickle (or file) where the problem was found, when known.</summary>
    public long? Offset { get; init; }
}

/// <summary>Broad failure classes; the PowerShell layer maps each onto an ErrorCategory.</summary>
public enum ErrorKind
{
    InvalidData,
    InvalidArgument,
    SecurityError,
    NotImplemented,
    ObjectNotFound,
    ResourceUnavailable,
    OperationStopped,
}
