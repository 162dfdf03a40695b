using System.Buffers;
using TorchSerial.Buffers;

namespace TorchSerial.Tensors;

/// <summary>
/// A storage's elements cast to another dtype, computed from the source as they are read: a save streams the source
/// (from its file, CRC-checked) and casts chunk by chunk, so casting a checkpoint of any size takes flat memory. A
/// random read casts the elements it covers. Wrapped in a load-once buffer, an eager use casts once.
/// </summary>
internal sealed class CastBuffer(StorageBuffer source, DType from, DType to) : StorageBuffer
{
    private readonly long _elements = source.Length / from.ItemSize;

    public override long Length => _elements * to.ItemSize;

    public override bool IsResident => false;

    public override void Read(long offset, Span<byte> destination)
    {
        if (destination.Length == 0) return;
        long first = offset / to.ItemSize, last = (offset + destination.Length - 1) / to.ItemSize;
        int count = (int)(last - first + 1);
        var input = new byte[count * from.ItemSize];
        var output = new byte[count * to.ItemSize];
        source.Read(first * from.ItemSize, input);
        ElementCast.Cast(from, input, to, output, VectorEnd(first));
        output.AsSpan((int)(offset - first * to.ItemSize), destination.Length).CopyTo(destination);
    }

    public override bool ReadsInChunks => source.ReadsInChunks;

    /// <summary>Source bytes read per step of a chunk: a narrowing cast's source is up to 16 times its
    /// output.</summary>
    private const int StepBytes = 4 << 20;

    /// <summary>Casts a chunk of whole elements from the source's chunks (CRC-checked there), a few MiB at a
    /// time.</summary>
    public override void ReadChunk(long offset, Span<byte> destination, ChunkChecks checks)
    {
        if (offset % to.ItemSize != 0 || destination.Length % to.ItemSize != 0)
        {
            Read(offset, destination); // a part of an element: a random read's cast, unchecked as those are
            return;
        }
        int step = Math.Max(1, StepBytes / Math.Max(from.ItemSize, to.ItemSize));
        long first = offset / to.ItemSize, count = destination.Length / to.ItemSize;
        var input = ArrayPool<byte>.Shared.Rent((int)Math.Min(step, count) * from.ItemSize);
        try
        {
            for (long done = 0; done < count; done += step)
            {
                int n = (int)Math.Min(step, count - done);
                var bytes = input.AsSpan(0, n * from.ItemSize);
                source.ReadChunk((first + done) * from.ItemSize, bytes, checks);
                ElementCast.Cast(from, bytes, to, destination.Slice((int)(done * to.ItemSize), n * to.ItemSize),
                    VectorEnd(first + done));
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(input);
        }
    }

    /// <summary>Elements of this run that torch's vectorized loop would convert (it only changes NaN bits of
    /// bfloat16).</summary>
    private long VectorEnd(long first) => Math.Max(0, _elements - _elements % 16 - first);

    public override ChunkReader OpenReader() => new Reader(this, source.OpenReader());

    /// <summary>Reads the source front to back, casting whole elements; a partial element waits for the next
    /// read.</summary>
    private sealed class Reader(CastBuffer owner, ChunkReader inner) : ChunkReader
    {
        private byte[] _in = Array.Empty<byte>(), _out = Array.Empty<byte>();
        private int _ready, _at;
        private long _element;

        public override int Read(Span<byte> destination)
        {
            if (_at == _ready && !Refill(destination.Length)) return 0;
            int n = Math.Min(destination.Length, _ready - _at);
            _out.AsSpan(_at, n).CopyTo(destination);
            _at += n;
            return n;
        }

        private bool Refill(int wanted)
        {
            int elements = (int)Math.Min(Math.Max(1, wanted / owner.ToSize), owner._elements - _element);
            if (elements <= 0) return false;
            int inBytes = elements * owner.FromSize;
            if (_in.Length < inBytes) _in = new byte[inBytes];
            if (_out.Length < elements * owner.ToSize) _out = new byte[elements * owner.ToSize];
            inner.ReadExactly(_in.AsSpan(0, inBytes));
            ElementCast.Cast(owner.From, _in.AsSpan(0, inBytes), owner.To, _out.AsSpan(0, elements * owner.ToSize),
                owner.VectorEnd(_element));
            _element += elements;
            _ready = elements * owner.ToSize;
            _at = 0;
            return true;
        }

        public override void Finish() => inner.Finish();

        public override void Dispose() => inner.Dispose();
    }

    private int FromSize => from.ItemSize;
    private int ToSize => to.ItemSize;
    private DType From => from;
    private DType To => to;
}
