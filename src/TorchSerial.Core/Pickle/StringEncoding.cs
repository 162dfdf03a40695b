namespace TorchSerial.Pickle;

/// <summary>
/// How Python 2 byte strings (pickle STRING, BINSTRING, SHORT_BINSTRING) are read, as torch.load's
/// <c>encoding=</c> argument. Python 3 <c>str</c> is always UTF-8 and unaffected.
/// </summary>
public enum StringEncoding
{
    /// <summary>Decode as UTF-8; invalid bytes are an error (torch's default).</summary>
    Utf8,
    /// <summary>Decode every byte as one character; never fails (right for Python 2 NumPy buffers).</summary>
    Latin1,
    /// <summary>Keep the raw bytes as <c>byte[]</c>.</summary>
    Bytes,
    /// <summary>Decode as ASCII; bytes over 127 are an error.</summary>
    Ascii,
}
