using TorchSerial.Errors;
using System.IO.Compression;

namespace TorchSerial.Buffers;

/// <summary>
/// A deflate-compressed zip record (re-zipped checkpoints). It inflates front to back, only up to the declared
/// size, so a zip bomb cannot make it produce more than the entry claims. Random reads inflate from the start.
/// </summary>
internal sealed class DeflatedBuffer : StorageBuffer
{
    private readonly Stream _stream;
    private readonly IRangeStart _locate;
    private readonly long _compressed, _uncompressed;
    private readonly string _name;

    // locate finds the first compressed byte: the local header is read only when the bytes are first needed.
    public DeflatedBuffer(Stream stream, IRangeStart locate, long compressed, long uncompressed, string name)
    {
        _stream = stream; _locate = locate; _compressed = compressed; _uncompressed = uncompressed; _name = name;
    }

    public override long Length => _uncompressed;

    public override bool IsResident => false;

    // Inflating is sequential: a read at an offset inflates everything before it.
    public override bool IsRandomAccess => false;

    public override ChunkReader OpenReader() => new Inflater(this);

    public override void Read(long offset, Span<byte> destination)
    {
        using var reader = new Inflater(this);
        var skip = new byte[Math.Min(ChunkSize, Math.Max(1, offset))];
        for (long left = offset; left > 0;)
        {
            int n = (int)Math.Min(skip.Length, left);
            reader.ReadExactly(skip.AsSpan(0, n));
            left -= n;
        }
        reader.ReadExactly(destination);
    }

    /// <summary>One pass of inflation. It holds the stream's lock, since the inflater moves its position.</summary>
    private sealed class Inflater : ChunkReader
    {
        private readonly DeflatedBuffer _owner;
        private readonly DeflateStream _inflate;
        private long _done;
        private bool _locked;

        public Inflater(DeflatedBuffer owner)
        {
            _owner = owner;
            long start = owner._locate.Locate();
            Monitor.Enter(owner._stream, ref _locked);
            owner._stream.Position = start;
            _inflate = new DeflateStream(new BoundedReadStream(owner._stream, owner._compressed),
                CompressionMode.Decompress, leaveOpen: false);
        }

        public override int Read(Span<byte> destination)
        {
            int want = (int)Math.Min(destination.Length, _owner._uncompressed - _done);
            if (want == 0) return 0;
            try
            {
                int n = _inflate.Read(destination[..want]);
                if (n == 0) throw Incomplete();
                _done += n;
                return n;
            }
            catch (InvalidDataException ex) { throw Corrupt(ex); }
        }

        /// <summary>Exactly the declared size must come out: no less, and nothing after it.</summary>
        public override void Finish()
        {
            try
            {
                if (_done < _owner._uncompressed || _inflate.ReadByte() >= 0) throw Incomplete();
            }
            catch (InvalidDataException ex) { throw Corrupt(ex); }
        }

        public override void Dispose()
        {
            _inflate.Dispose();
            if (_locked) Monitor.Exit(_owner._stream);
            _locked = false;
        }

        private TorchSerialException Incomplete() => Fail.Data(ErrorIds.RecordSizeMismatch,
            $"Deflated record '{_owner._name}' does not inflate to its declared {_owner._uncompressed} bytes: the " +
                "archive is corrupt.", _owner._name);

        private TorchSerialException Corrupt(InvalidDataException ex)
            => new(ErrorIds.CorruptZip, ErrorKind.InvalidData, $"Deflated record '{_owner._name}' is corrupt: {ex.Message}", ex) { Record = _owner._name };
    }
}
