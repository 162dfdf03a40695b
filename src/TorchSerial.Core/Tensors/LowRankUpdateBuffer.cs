using TorchSerial.Buffers;

namespace TorchSerial.Tensors;

/// <summary>
/// A 2-D weight plus a scaled low-rank product, W′ = W + s·(L·R), computed as it is read: L is (rows × r), R is
/// (r × columns), both held in float64 (an adapter's matrices are small); each row of W is widened to float64, the
/// row of the product added, and the sum rounded once to W's dtype. A LoRA merge is this with L = B, R = A (or their
/// transposes for a weight stored (in, out), and for an embedding).
/// </summary>
internal sealed class LowRankUpdateBuffer : ElementBuffer
{
    private readonly Tensor _weight;
    private readonly StorageBuffer _bytes;
    private readonly double[] _left, _right;
    private readonly int _rank;
    private readonly long _columns;
    private readonly double _scale;
    private readonly DType _dtype;

    /// <param name="weight">W, 2-D.</param>
    /// <param name="left">L, row-major (rows of W × rank).</param>
    /// <param name="right">R, row-major (rank × columns of W).</param>
    /// <param name="rank">The inner dimension r.</param>
    /// <param name="scale">s.</param>
    public LowRankUpdateBuffer(Tensor weight, double[] left, double[] right, int rank, double scale)
        : base(weight.DTypeInfo.ItemSize)
    {
        _weight = weight;
        _bytes = Unkept(weight.Storage.Buffer);
        _left = left;
        _right = right;
        _rank = rank;
        _columns = weight.Shape[1];
        _scale = scale;
        _dtype = weight.DTypeInfo;
        Length = weight.NumElements * ItemSize;
    }

    public override long Length { get; }

    protected override void ReadElements(long first, Span<byte> destination)
    {
        long count = destination.Length / ItemSize;
        var raw = new byte[count * ItemSize];
        var values = new double[count];
        TensorGeometry.Gather(_bytes, ItemSize, _weight.StorageOffset, _weight.Shape.Items, _weight.Stride.Items,
            first, raw);
        ElementCast.Cast(_dtype, raw, DType.Float64, System.Runtime.InteropServices.MemoryMarshal.AsBytes(
            values.AsSpan()));
        for (long k = 0; k < count; k++)
        {
            long e = first + k, row = e / _columns, column = e % _columns;
            double sum = 0;
            for (int j = 0; j < _rank; j++) sum += _left[row * _rank + j] * _right[j * _columns + column];
            values[k] += _scale * sum;
        }
        ElementCast.Cast(DType.Float64, System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()), _dtype,
            destination);
    }
}
