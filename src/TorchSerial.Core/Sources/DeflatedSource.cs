using System.IO.Compression;

namespace TorchSerial.Sources;

/// <summary>
/// A deflate-compressed zip record (re-zipped checkpoints, TorchScript code files). It inflates only
/// up to the declared size, so a zip bomb cannot make it allocate more than the entry claims.
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

    public override void ReadInto(Span<byte> destination)
    {
        lock (_stream)
        {
            _stream.Position = _offset;
            using var window = new BoundedReadStream(_stream, _compressed);
            using var inflate = new DeflateStream(window, CompressionMode.Decompress, leaveOpen: true);
            int done = 0;
            try
            {
                while (done < destination.Length)
                {
                    int n = inflate.Read(destination[done..]);
                    if (n == 0) break;
                    done += n;
                }
                if (done < destination.Length || inflate.ReadByte() >= 0)
                    throw Fail.Data(ErrorIds.RecordSizeMismatch,
                        $"Deflated record '{_name}' does not inflate to its declared {_uncompressed} bytes: the archive is corrupt.", _name);
            }
            catch (InvalidDataException ex)
            {
                throw new TorchSerialException(ErrorIds.CorruptZip, ErrorKind.InvalidData, $"Deflated record '{_name}' is corrupt: {ex.Message}", ex) { Record = _name };
            }
        }
    }
}
