using System.Runtime.InteropServices;
using TorchSerial.Buffers;

namespace TorchSerial.Tensors;

/// <summary>
/// The weighted sum Σ wᵢ·xᵢ of tensors of one dtype and shape, computed as it is read: each range of elements is
/// widened to float64 from every source, accumulated in float64 in the sources' order, and rounded once to the dtype
/// (torch's <c>.to(dtype)</c> rounding, through <see cref="ElementCast"/>), so a streamed save of an average holds
/// one scratch buffer per source whatever the model's size.
/// </summary>
internal sealed class AverageBuffer : ElementBuffer
{
    /// <summary>Elements a core computes at a time: 512 KiB of float64 scratch.</summary>
    private const int Step = 1 << 16;

    private readonly IReadOnlyList<Tensor> _sources;
    private readonly StorageBuffer[] _bytes;
    private readonly double[] _weights;
    private readonly DType _dtype;

    public AverageBuffer(IReadOnlyList<Tensor> sources, IReadOnlyList<double> weights, DType dtype)
        : base(dtype.ItemSize)
    {
        _sources = sources;
        _bytes = sources.Select(s => Unkept(s.Storage.Buffer)).ToArray();
        _weights = weights.ToArray();
        _dtype = dtype;
        Length = sources[0].NumElements * dtype.ItemSize;
    }

    public override long Length { get; }

    protected override int ParallelBlock => Step;

    /// <summary>Reads the range of every input, sums in float64 and rounds into the destination.</summary>
    protected override void ReadElements(long first, Span<byte> destination)
    {
        int n = destination.Length / ItemSize;
        var pool = System.Buffers.ArrayPool<byte>.Shared;
        byte[] raw = pool.Rent(n * ItemSize), wide = pool.Rent(n * 8), sum = pool.Rent(n * 8);
        try
        {
            var acc = MemoryMarshal.Cast<byte, double>(sum.AsSpan(0, n * 8));
            var values = MemoryMarshal.Cast<byte, double>(wide.AsSpan(0, n * 8));
            acc.Clear();
            for (int s = 0; s < _sources.Count; s++)
            {
                var src = _sources[s];
                TensorGeometry.Gather(_bytes[s], ItemSize, src.StorageOffset, src.Shape.Items, src.Stride.Items,
                    first, raw.AsSpan(0, n * ItemSize));
                ElementCast.Cast(_dtype, raw.AsSpan(0, n * ItemSize), DType.Float64, wide.AsSpan(0, n * 8));
                double w = _weights[s];
                for (int i = 0; i < n; i++) acc[i] += w * values[i];
            }
            ElementCast.Cast(DType.Float64, sum.AsSpan(0, n * 8), _dtype, destination);
        }
        finally
        {
            pool.Return(raw);
            pool.Return(wide);
            pool.Return(sum);
        }
    }
}
