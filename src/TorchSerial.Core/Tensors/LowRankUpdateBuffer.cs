using System.Buffers;
using System.Runtime.InteropServices;
using TorchSerial.Buffers;

namespace TorchSerial.Tensors;

/// <summary>
/// A 2-D weight plus a scaled low-rank product, W′ = W + s·(L·R), computed as it is read: L is (rows × r), R is
/// (r × columns), both held in float64 (an adapter's matrices are small); each row of W is widened to float64, the
/// row of the product added, and the sum rounded once to W's dtype. A LoRA merge is this with L = B, R = A (or their
/// transposes for a weight stored (in, out), and for an embedding); a convolution's weight is its (out, in·k…) view.
/// With a magnitude vector (DoRA), V = W + s·(L·R) is rescaled by m / ‖V‖ along its rows or its columns before the
/// one rounding; the norms take one pass over V before the first read.
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
    private readonly double[]? _magnitude;
    private readonly bool _columnNorms;
    private double[]? _factors;
    private readonly LowRankProduct _product;

    /// <param name="weight">W, 2-D.</param>
    /// <param name="left">L, row-major (rows of W × rank).</param>
    /// <param name="right">R, row-major (rank × columns of W).</param>
    /// <param name="rank">The inner dimension r.</param>
    /// <param name="scale">s.</param>
    /// <param name="magnitude">DoRA's m: one value a row of W (or a column, with <paramref name="columnNorms"/>);
    /// null for plain LoRA.</param>
    /// <param name="columnNorms">Normalise each column of V instead of each row (an embedding; a Linear weight
    /// stored (in, out)).</param>
    /// <param name="product">Where s·(L·R) is computed; null for the host.</param>
    public LowRankUpdateBuffer(Tensor weight, double[] left, double[] right, int rank, double scale,
        double[]? magnitude = null, bool columnNorms = false, LowRankProduct? product = null)
        : base(weight.DTypeInfo.ItemSize)
    {
        _product = product ?? LowRankProduct.Host;
        _magnitude = magnitude;
        _columnNorms = columnNorms;
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

    /// <summary>Elements a core computes at a time.</summary>
    private const int Step = 1 << 16;

    protected override int ParallelBlock => Step;

    protected override void ReadElements(long first, Span<byte> destination)
    {
        // Blocks of 64 Ki elements: fresh arrays of this size land on the large-object heap, and their collections
        // cost as much as the arithmetic did; rented ones are reused across blocks and tensors.
        int n = destination.Length / ItemSize;
        var rented = ArrayPool<double>.Shared.Rent(n);
        try { ReadElements(first, rented.AsSpan(0, n), destination); }
        finally { ArrayPool<double>.Shared.Return(rented); }
    }

    private void ReadElements(long first, Span<double> values, Span<byte> destination)
    {
        Compute(first, values);
        if (_magnitude is not null)
        {
            var factors = Factors();
            for (int k = 0; k < values.Length; k++)
            {
                long e = first + k;
                values[k] *= factors[_columnNorms ? e % _columns : e / _columns];
            }
        }
        ElementCast.Cast(DType.Float64, MemoryMarshal.AsBytes(values), _dtype, destination);
    }

    /// <summary>DoRA's m / ‖V‖ per row (or column), from one pass over V in float64, made once.</summary>
    private double[] Factors()
    {
        lock (this)
        {
            if (_factors is not null) return _factors;
            long count = _weight.NumElements, rows = count / _columns;
            var squares = new double[_columnNorms ? _columns : rows];
            var values = new double[(int)Math.Min(count, Math.Max(_columns, Step))];
            for (long at = 0; at < count; at += values.Length)
            {
                var block = values.AsSpan(0, (int)Math.Min(values.Length, count - at));
                Compute(at, block);
                for (int k = 0; k < block.Length; k++)
                {
                    long e = at + k;
                    squares[_columnNorms ? e % _columns : e / _columns] += block[k] * block[k];
                }
            }
            var factors = new double[squares.Length];
            for (int i = 0; i < factors.Length; i++) factors[i] = _magnitude![i] / Math.Sqrt(squares[i]);
            return _factors = factors;
        }
    }

    /// <summary>V for elements <paramref name="first"/>..: W's elements widened to float64, plus s·(L·R) from
    /// <see cref="LowRankProduct"/> (the host's lanes, or an accelerator's kernel).</summary>
    private void Compute(long first, Span<double> values)
    {
        int n = values.Length;
        var raw = ArrayPool<byte>.Shared.Rent(n * ItemSize);
        try
        {
            TensorGeometry.Gather(_bytes, ItemSize, _weight.StorageOffset, _weight.Shape.Items, _weight.Stride.Items,
                first, raw.AsSpan(0, n * ItemSize));
            ElementCast.Cast(_dtype, raw.AsSpan(0, n * ItemSize), DType.Float64, MemoryMarshal.AsBytes(values));
        }
        finally { ArrayPool<byte>.Shared.Return(raw); }
        _product.AddScaled(values, first, _columns, _left, _right, _rank, _scale);
    }
}
