namespace TorchSerial.Buffers;

/// <summary>
/// A stream whose bytes can be read at any offset from any thread at once, without moving a shared position: a
/// range of a file on an HTTP server is one request, so a load of many storages reads them side by side.
/// </summary>
internal interface IPositionalRead
{
    /// <summary>Reads exactly <paramref name="destination"/>.Length bytes starting at <paramref name="offset"/>.
    /// </summary>
    void ReadAt(long offset, Span<byte> destination);
}
