using System.Numerics;

namespace TorchSerial.Tensors;

/// <summary>
/// Where the scaled low-rank product of an adapter merge is computed: the host (SIMD lanes, <see cref="Host"/>) or an
/// accelerator (the Devices layer's ILGPU kernel, which the cmdlet hands in). Either adds
/// s·Σⱼ L[row, j]·R[j, column] to each element of a run of a (rows × columns) matrix in float64, j in order, a multiply then an add: the same
/// roundings element by element, so both give the same bits.
/// </summary>
public abstract class LowRankProduct
{
    /// <summary>The host's product, in <see cref="Vector{T}"/> lanes.</summary>
    public static LowRankProduct Host { get; } = new HostProduct();

    /// <summary>Where it runs: 'cpu', or the accelerator's device name.</summary>
    public abstract string Device { get; }

    /// <summary>Adds s·(L·R) to <paramref name="values"/>, which hold the matrix's elements from
    /// <paramref name="first"/> on, in row-major order.</summary>
    /// <param name="values">Elements of W in float64; the product is added in place.</param>
    /// <param name="first">The index of values[0] in the matrix.</param>
    /// <param name="columns">The matrix's columns.</param>
    /// <param name="left">L, row-major (rows × rank).</param>
    /// <param name="right">R, row-major (rank × columns).</param>
    /// <param name="rank">The inner dimension.</param>
    /// <param name="scale">s.</param>
    public abstract void AddScaled(Span<double> values, long first, long columns, double[] left, double[] right,
        int rank, double scale);

    private sealed class HostProduct : LowRankProduct
    {
        public override string Device => "cpu";

        public override void AddScaled(Span<double> values, long first, long columns, double[] left, double[] right,
            int rank, double scale)
        {
            int n = values.Length, lanes = Vector<double>.Count;
            var broadcast = new Vector<double>[rank];
            var sums = System.Buffers.ArrayPool<double>.Shared.Rent((int)Math.Min(n, columns));
            try
            {
                for (int k = 0; k < n;)
                {
                    long e = first + k, row = e / columns, column = e % columns;
                    int length = (int)Math.Min(n - k, columns - column);
                    var sum = sums.AsSpan(0, length);
                    var l = left.AsSpan((int)(row * rank), rank);
                    for (int j = 0; j < rank; j++) broadcast[j] = new Vector<double>(l[j]);
                    // Each lane's sum stays in a register across j (R is read once per element, the sum never stored
                    // midway); j still runs in order, so the roundings are those of one element at a time.
                    int q = 0;
                    for (; q + lanes <= length; q += lanes)
                    {
                        var acc = Vector<double>.Zero;
                        long at = column + q;
                        for (int j = 0; j < rank; j++, at += columns)
                            acc += broadcast[j] * new Vector<double>(right.AsSpan((int)at, lanes));
                        acc.CopyTo(sum[q..]);
                    }
                    for (; q < length; q++)
                    {
                        double acc = 0;
                        for (int j = 0; j < rank; j++) acc += l[j] * right[j * columns + column + q];
                        sum[q] = acc;
                    }
                    var s = new Vector<double>(scale);
                    var target = values.Slice(k, length);
                    for (q = 0; q + lanes <= length; q += lanes)
                        (new Vector<double>(target[q..]) + s * new Vector<double>(sum[q..])).CopyTo(target[q..]);
                    for (; q < length; q++) target[q] += scale * sum[q];
                    k += length;
                }
            }
            finally { System.Buffers.ArrayPool<double>.Shared.Return(sums); }
        }
    }
}
