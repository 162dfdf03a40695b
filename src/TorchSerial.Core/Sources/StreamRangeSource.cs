namespace TorchSerial.Sources;

/// <summary>
/// A byte range of a seekable stream (a stored zip record, a legacy-stream storage, a tar member).
/// Reads go straight into the destination buffer: no intermediate copy.
/// </summary>
public sealed class StreamRangeSource : StorageSource
{
    private readonly Stream _stream;
    private readonly long _offset;
    private readonly long _length;
    private readonly string _what;

    public StreamRangeSource(Stream stream, long offset, long length, string what)
    {
        _stream = stream;
        _offset = offset;
        _length = length;
        _what = what;
    }

    public override long Length => _length;

    public override void ReadInto(Span<byte> destination)
    {
        // Several storages share one stream; the lock keeps seek+read pairs together.
        lock (_stream)
        {
            _stream.Position = _offset;
            int done = 0;
            while (done < destination.Length)
            {
                int n = _stream.Read(destination[done..]);
                if (n == 0)
                    throw Fail.Data(ErrorIds.RecordSizeMismatch,
                        $"The data of {_what} ends after {done} of its {destination.Length} bytes: the file is truncated.", _what);
                done += n;
            }
        }
    }
}
