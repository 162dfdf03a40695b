using System.IO.Compression;

namespace TorchSerial.Sources;

/// <summary>
/// A deflate-compressed zip record (re-zipped checkpoints). It inflates sequentially, only up to the declared
/// size, so a zip bomb cannot make it allocate or produce more than the entry claims.
/// </summary>
public sealed class DeflatedSource : StorageSource
{
    private readonly Stream _stream;
    private readonly long _offset, _compressed, _uncompressed;
    private readonly string _name;

    public DeflatedSource(Stream stream, long offset, long compressed, long uncompressed, string name)
    {
        _stream = stream; _offset = offset; _compressed = compressed; _uncompressed = uncompressed; _name = name;
    }

    public override long Length => _uncompressed;

    protected override void ReadRange(long offset, Span<byte> destination) => throw new NotSupportedException("Deflated records are read sequentially.");

    public override void ReadInto(Span<byte> destination, Action<int>? progress = null, CancellationToken cancellationToken = default)
    {
        lock (_stream)
        {
            using var inflate = Open();
            int done = 0;
            try
            {
                while (done < destination.Length)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    int n = inflate.Read(destination.Slice(done, Math.Min(ChunkSize, destination.Length - done)));
                    if (n == 0) break;
                    done += n;
                    progress?.Invoke(n);
                }
                EnsureComplete(done, inflate);
            }
            catch (InvalidDataException ex) { throw Corrupt(ex); }
        }
    }

    public override void CopyTo(Action<ReadOnlyMemory<byte>> sink, byte[] buffer, CancellationToken cancellationToken = default)
    {
        lock (_stream)
        {
            using var inflate = Open();
            long done = 0;
            try
            {
                while (done < _uncompressed)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    int n = inflate.Read(buffer, 0, (int)Math.Min(buffer.Length, _uncompressed - done));
                    if (n == 0) break;
                    sink(buffer.AsMemory(0, n));
                    done += n;
                }
                EnsureComplete(done, inflate);
            }
            catch (InvalidDataException ex) { throw Corrupt(ex); }
        }
    }

    private DeflateStream Open()
    {
        _stream.Position = _offset;
        return new DeflateStream(new BoundedReadStream(_stream, _compressed), CompressionMode.Decompress, leaveOpen: false);
    }

    /// <summary>Exactly the declared size must come out: no less, and nothing after it.</summary>
    private void EnsureComplete(long done, DeflateStream inflate)
    {
        if (done < _uncompressed || inflate.ReadByte() >= 0)
            throw Fail.Data(ErrorIds.RecordSizeMismatch,
                $"Deflated record '{_name}' does not inflate to its declared {_uncompressed} bytes: the archive is corrupt.", _name);
    }

    private TorchSerialException Corrupt(InvalidDataException ex)
        => new(ErrorIds.CorruptZip, ErrorKind.InvalidData, $"Deflated record '{_name}' is corrupt: {ex.Message}", ex) { Record = _name };
}
