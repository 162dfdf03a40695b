namespace TorchSerial.Buffers;

/// <summary>
/// A read-only, seekable view of <c>[offset, offset + length)</c> of a stream, positioned as if that range were a
/// file of its own: a DCP <c>.distcp</c> file holds whole torch.save archives back to back, and each is read as one
/// by the zip reader through such a view (as DCP's reader does with its <c>_ReaderView</c>). Reads lock the shared
/// stream, so views of one file may be read from several threads.
/// </summary>
internal sealed class WindowStream : Stream
{
    private readonly Stream _inner;
    private readonly long _offset;
    private readonly long _length;
    private long _position;

    public WindowStream(Stream inner, long offset, long length)
    {
        _inner = inner;
        _offset = offset;
        _length = length;
        // Taken once: a FileStream's getter flushes and marks the handle exposed on every call.
        Handle = (inner as FileStream)?.SafeFileHandle;
    }

    /// <summary>The file under the window, for positional reads at <see cref="Start"/> + a position in the window
    /// (no lock, no seek: the zip reader's records are read so, as from a file of their own).</summary>
    public Microsoft.Win32.SafeHandles.SafeFileHandle? Handle { get; }

    /// <summary>Where the window starts in the file.</summary>
    public long Start => _offset;

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        long left = _length - _position;
        if (left <= 0 || buffer.Length == 0) return 0;
        int want = (int)Math.Min(buffer.Length, left), n;
        lock (_inner)
        {
            _inner.Position = _offset + _position;
            n = _inner.Read(buffer[..want]);
        }
        _position += n;
        return n;
    }

    public override long Seek(long offset, SeekOrigin origin)
    {
        long to = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            _ => _length + offset,
        };
        if (to < 0) throw new IOException("An attempt was made to move the position before the start of the window.");
        return _position = to;
    }

    public override bool CanRead => true;
    public override bool CanSeek => true;
    public override bool CanWrite => false;
    public override long Length => _length;
    public override long Position { get => _position; set => Seek(value, SeekOrigin.Begin); }
    public override void Flush() { }
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
