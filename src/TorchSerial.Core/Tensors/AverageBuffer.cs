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
    /// <summary>Elements computed per step of a long read: float64 scratch of 2 MiB a source.</summary>
    private const int Step = 1 << 18;

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

    protected override void ReadElements(long first, Span<byte> destination)
    {
        long count = destination.Length / ItemSize;
        var raw = new byte[(int)Math.Min(count, Step) * ItemSize];
        var wide = new double[(int)Math.Min(count, Step)];
        var sum = new double[wide.Length];
        for (long done = 0; done < count; done += Step)
        {
            int n = (int)Math.Min(Step, count - done);
            Array.Clear(sum, 0, n);
            for (int s = 0; s < _sources.Count; s++)
            {
                var src = _sources[s];
                TensorGeometry.Gather(_bytes[s], ItemSize, src.StorageOffset, src.Shape.Items, src.Stride.Items,
                    first + done, raw.AsSpan(0, n * ItemSize));
                ElementCast.Cast(_dtype, raw.AsSpan(0, n * ItemSize), DType.Float64,
                    MemoryMarshal.AsBytes(wide.AsSpan(0, n)));
                double w = _weights[s];
                for (int i = 0; i < n; i++) sum[i] += w * wide[i];
            }
            ElementCast.Cast(DType.Float64, MemoryMarshal.AsBytes(sum.AsSpan(0, n)), _dtype,
                destination.Slice((int)(done * ItemSize), n * ItemSize));
        }
    }
}
