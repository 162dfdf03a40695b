using TorchSerial.Buffers;
using TorchSerial.Errors;

namespace TorchSerial.Tensors;

/// <summary>One saved piece of a tensor: the N-D box at <see cref="Offsets"/> of size <see cref="Sizes"/>, whose
/// elements (row-major) are the logical elements of <see cref="Source"/>.</summary>
internal sealed record TensorPiece(long[] Offsets, long[] Sizes, Tensor Source);

/// <summary>
/// The row-major bytes of a tensor that was saved in pieces (a DCP tensor's chunks, a ZeRO parameter's partitions),
/// put together on read: each read copies the runs it covers straight from the pieces' files, so a streaming save holds
/// no more than its scratch buffer and an eager load reads every piece once, on every core. The pieces are checked
/// once, at construction, as torch's planner checks them: in bounds, not overlapping, covering the tensor.
/// </summary>
internal sealed class AssembledBuffer : ElementBuffer
{
    private readonly long[] _shape, _rowStride;
    private readonly int _item;
    private readonly Part[] _parts;
    private readonly long _numel;

    private sealed record Part(TensorPiece Piece, StorageBuffer Bytes, int Outer, long[] LocalStride);

    /// <param name="shape">The whole tensor's shape (row-major, contiguous).</param>
    /// <param name="dtype">Its dtype, which every piece has.</param>
    /// <param name="pieces">The saved pieces, which must cover it exactly.</param>
    /// <param name="what">How errors name the tensor and where it comes from.</param>
    public AssembledBuffer(long[] shape, DType dtype, IReadOnlyList<TensorPiece> pieces, string what)
        : base(dtype.ItemSize)
    {
        _shape = shape;
        _item = dtype.ItemSize;
        _rowStride = TensorGeometry.ContiguousStrides(shape);
        _numel = Check(shape, dtype, pieces, what);
        Length = checked(_numel * _item);
        _parts = pieces.Select(p => new Part(p, Unkept(p.Source.Storage.Buffer), OuterPartial(p),
            TensorGeometry.ContiguousStrides(p.Sizes))).ToArray();
    }

    public override long Length { get; }

    protected override void ReadElements(long first, Span<byte> destination)
    {
        long stop = first + destination.Length / _item;
        var local = new long[_shape.Length];
        foreach (var part in _parts)
        {
            // A box's elements keep their order in the whole tensor, so those inside [first, stop) are one run of the
            // piece's own elements: read in one go (one read of its file), then put down run by run.
            long from = Before(part.Piece, first), to = Before(part.Piece, stop);
            if (from >= to) continue;
            int bytes = checked((int)((to - from) * _item));
            var scratch = System.Buffers.ArrayPool<byte>.Shared.Rent(bytes);
            try
            {
                var src = part.Piece.Source;
                TensorGeometry.Gather(part.Bytes, _item, src.StorageOffset, src.Shape.Items, src.Stride.Items, from,
                    scratch.AsSpan(0, bytes));
                Scatter(part, from, to, scratch, destination, first, local);
            }
            finally { System.Buffers.ArrayPool<byte>.Shared.Return(scratch); }
        }
    }

    /// <summary>Copies the piece's elements <paramref name="from"/>..<paramref name="to"/> (in <paramref
    /// name="scratch"/>) to their places in <paramref name="destination"/>, which starts at element <paramref
    /// name="first"/>: in runs that are contiguous in the piece and in the tensor alike.</summary>
    private void Scatter(Part part, long from, long to, byte[] scratch, Span<byte> destination, long first,
        long[] local)
    {
        var piece = part.Piece;
        long l = from;
        while (l < to)
        {
            long rest = l, global = 0;
            for (int d = 0; d < _shape.Length; d++)
            {
                local[d] = rest / part.LocalStride[d];
                rest %= part.LocalStride[d];
                global += (piece.Offsets[d] + local[d]) * _rowStride[d];
            }
            long run = to - l;
            if (part.Outer >= 0)
            {
                long within = 0;
                for (int d = part.Outer + 1; d < _shape.Length; d++) within += local[d] * part.LocalStride[d];
                run = Math.Min(run, (piece.Sizes[part.Outer] - local[part.Outer]) * part.LocalStride[part.Outer]
                    - within);
            }
            scratch.AsSpan((int)((l - from) * _item), (int)(run * _item))
                .CopyTo(destination[(int)((global - first) * _item)..]);
            l += run;
        }
    }

    /// <summary>How many of the piece's elements come before element <paramref name="index"/> of the tensor (row-major
    /// order): the piece's own index of the first of its elements at or after it.</summary>
    private long Before(TensorPiece piece, long index)
    {
        if (index >= _numel) return Volume(piece.Sizes);
        long count = 0, rest = index, below = Volume(piece.Sizes);
        for (int d = 0; d < _shape.Length; d++)
        {
            long at = rest / _rowStride[d];
            rest %= _rowStride[d];
            below = piece.Sizes[d] == 0 ? 0 : below / piece.Sizes[d];
            long inside = at - piece.Offsets[d];
            if (inside < 0) return count;
            if (inside >= piece.Sizes[d]) return count + piece.Sizes[d] * below;
            count += inside * below;
        }
        return count;
    }

    private static long Volume(long[] sizes)
    {
        long v = 1;
        foreach (var s in sizes) v *= s;
        return v;
    }

    /// <summary>The outermost dimension the piece does not span whole (-1 when it is the whole tensor): below it, the
    /// piece's elements run on contiguously in the tensor as well.</summary>
    private int OuterPartial(TensorPiece p)
    {
        int outer = -1;
        for (int d = _shape.Length - 1; d >= 0; d--)
            if (p.Offsets[d] != 0 || p.Sizes[d] != _shape[d]) { outer = d; break; }
        return outer;
    }

    /// <summary>The checks of torch's <c>_validate_global_plan</c>, plus what reading needs (each piece's tensor has
    /// the box's shape and the dtype); returns the element count.</summary>
    private static long Check(long[] shape, DType dtype, IReadOnlyList<TensorPiece> pieces, string what)
    {
        long numel = 1;
        foreach (var s in shape) numel = checked(numel * s);
        long covered = 0;
        for (int i = 0; i < pieces.Count; i++)
        {
            var p = pieces[i];
            string box = $"[{string.Join(", ", p.Offsets)}] + [{string.Join(", ", p.Sizes)}]";
            if (p.Offsets.Length != shape.Length || p.Sizes.Length != shape.Length)
                throw Invalid(what, $"chunk {box} has {p.Offsets.Length} dimensions; the tensor has {shape.Length}");
            for (int d = 0; d < shape.Length; d++)
                if (p.Offsets[d] < 0 || p.Sizes[d] < 0 || p.Offsets[d] > shape[d] - p.Sizes[d])
                    throw Invalid(what, $"chunk {box} lies outside the tensor's shape [{string.Join(", ", shape)}]");
            if (!p.Source.Shape.Items.AsSpan().SequenceEqual(p.Sizes) || p.Source.DTypeInfo != dtype)
                throw Invalid(what, $"chunk {box} holds a {p.Source.DType} tensor of shape {p.Source.Shape}, not " +
                    $"{dtype.Name} of shape [{string.Join(", ", p.Sizes)}]");
            long volume = 1;
            foreach (var s in p.Sizes) volume *= s;
            covered = checked(covered + volume);
            if (volume == 0) continue;
            for (int j = 0; j < i; j++)
                if (Overlap(p, pieces[j]))
                    throw Invalid(what, $"chunks {box} and [{string.Join(", ", pieces[j].Offsets)}] + " +
                        $"[{string.Join(", ", pieces[j].Sizes)}] overlap");
        }
        if (covered != numel)
            throw Invalid(what, $"its chunks hold {covered} elements but the tensor has {numel}: " +
                (covered < numel ? "part of it was never saved" : "they overlap"));
        return numel;
    }

    private static bool Overlap(TensorPiece a, TensorPiece b)
    {
        for (int d = 0; d < a.Offsets.Length; d++)
            if (a.Offsets[d] >= b.Offsets[d] + b.Sizes[d] || b.Offsets[d] >= a.Offsets[d] + a.Sizes[d]) return false;
        return true;
    }

    private static TorchSerialException Invalid(string what, string problem)
        => Fail.Data(ErrorIds.DistributedChunkInvalid,
            $"{what} cannot be put together: {problem}. torch's loader refuses such a checkpoint too (\"Failed to " +
                "validate global plan\").", what);
}
