namespace TorchSerial.Buffers.Remote;

/// <summary>
/// A remote file as the seekable, read-only stream every container reader takes: position and reads map onto
/// <see cref="RemoteFile.ReadAt"/>, and positional reads (<see cref="IPositionalRead"/>) let a load read storages
/// side by side. The one storage resolver sees a stream as it sees a local file's.
/// </summary>
internal sealed class RemoteStream(RemoteFile file) : Stream, IPositionalRead
{
    private long _position;

    public RemoteFile File => file;

    public override bool CanRead => true;
    public override bool CanSeek => true;
    public override bool CanWrite => false;
    public override long Length => file.Length;

    public override long Position
    {
        get => _position;
        set => _position = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(value));
    }

    public void ReadAt(long offset, Span<byte> destination) => file.ReadAt(offset, destination);

    public override int Read(Span<byte> buffer)
    {
        int n = (int)Math.Clamp(file.Length - _position, 0, buffer.Length);
        if (n == 0) return 0;
        file.ReadAt(_position, buffer[..n]);
        _position += n;
        return n;
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override long Seek(long offset, SeekOrigin origin) => Position = origin switch
    {
        SeekOrigin.Begin => offset,
        SeekOrigin.Current => _position + offset,
        _ => file.Length + offset,
    };

    public override void Flush() { }
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
