using System.Numerics;

namespace TorchSerial.Tensors;

/// <summary>
/// Measure-Tensor on the host: the tensor's logical elements streamed in chunks, widened to double, and reduced
/// with <see cref="Vector{T}"/> lanes (counts, min, max, sums, and the chunk's squared deviations in a second pass over
/// the chunk while it is in cache); chunks merge with <see cref="StatisticsPartial.Merge"/>.
/// </summary>
public static class HostStatistics
{
    private const int ChunkBytes = 1 << 20;

    public static TensorStatistics Compute(Tensor tensor, CancellationToken cancellationToken = default)
    {
        var total = StatisticsPartial.Empty;
        int per = ElementValues.PerElement(tensor.DTypeInfo);
        double[] values = Array.Empty<double>();
        foreach (var chunk in tensor.EnumerateChunks(ChunkBytes))
        {
            cancellationToken.ThrowIfCancellationRequested();
            int n = chunk.Length / tensor.DTypeInfo.ItemSize * per;
            if (values.Length < n) values = new double[n];
            ElementValues.ToDouble(tensor.DTypeInfo, chunk, values);
            var partial = Reduce(values.AsSpan(0, n));
            total.Merge(partial);
        }
        return total.ToResult(tensor, "cpu");
    }

    /// <summary>Each distinct tensor that holds NaN or an infinity, with its figures (quantized tensors hold integers
    /// only).</summary>
    public static IEnumerable<TensorStatistics> NonFinite(IEnumerable<Tensor> tensors,
        CancellationToken cancellationToken = default)
    {
        var seen = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        foreach (var t in tensors)
        {
            if (!seen.Add(t) || t.DTypeInfo.IsQuantized) continue;
            var s = Compute(t, cancellationToken);
            if (!s.IsFinite) yield return s;
        }
    }

    /// <summary>The figures of one run of values.</summary>
    public static StatisticsPartial Reduce(ReadOnlySpan<double> values)
    {
        var p = StatisticsPartial.Empty;
        p.Count = values.Length;
        if (values.Length == 0) return p;
        int lanes = Vector<double>.Count, i = 0;
        var vMin = new Vector<double>(double.PositiveInfinity);
        var vMax = new Vector<double>(double.NegativeInfinity);
        var vSum = Vector<double>.Zero;
        var vSq = Vector<double>.Zero;
        var vNaN = Vector<long>.Zero;
        var vPos = Vector<long>.Zero;
        var vNeg = Vector<long>.Zero;
        var vZero = Vector<long>.Zero;
        var posInf = new Vector<double>(double.PositiveInfinity);
        var negInf = new Vector<double>(double.NegativeInfinity);
        for (; i <= values.Length - lanes; i += lanes)
        {
            var v = new Vector<double>(values[i..]);
            // Comparison masks are all-ones (-1) per true lane: subtracting them counts.
            vNaN -= Vector.AsVectorInt64(~Vector.Equals(v, v));
            vPos -= Vector.AsVectorInt64(Vector.Equals(v, posInf));
            vNeg -= Vector.AsVectorInt64(Vector.Equals(v, negInf));
            vZero -= Vector.AsVectorInt64(Vector.Equals(v, Vector<double>.Zero));
            vMin = Vector.Min(vMin, v);
            vMax = Vector.Max(vMax, v);
            vSum += v;
            vSq += v * v;
        }
        double sum = Vector.Sum(vSum), sq = Vector.Sum(vSq);
        p.NaN = Vector.Sum(vNaN);
        p.PositiveInfinity = Vector.Sum(vPos);
        p.NegativeInfinity = Vector.Sum(vNeg);
        p.Zeros = Vector.Sum(vZero);
        for (int l = 0; l < lanes; l++) { p.Min = Math.Min(p.Min, vMin[l]); p.Max = Math.Max(p.Max, vMax[l]); }
        for (; i < values.Length; i++)
        {
            double v = values[i];
            if (double.IsNaN(v)) p.NaN++;
            else if (double.IsPositiveInfinity(v)) p.PositiveInfinity++;
            else if (double.IsNegativeInfinity(v)) p.NegativeInfinity++;
            if (v == 0) p.Zeros++;
            p.Min = Math.Min(p.Min, v);
            p.Max = Math.Max(p.Max, v);
            sum += v;
            sq += v * v;
        }
        p.SumSquares = sq;
        p.Mean = sum / values.Length;
        // The second pass over the chunk (in cache) gives the squared deviations exactly, not as sq - n·mean².
        var vMean = new Vector<double>(p.Mean);
        var vM2 = Vector<double>.Zero;
        i = 0;
        for (; i <= values.Length - lanes; i += lanes)
        {
            var d = new Vector<double>(values[i..]) - vMean;
            vM2 += d * d;
        }
        double m2 = Vector.Sum(vM2);
        for (; i < values.Length; i++) { double d = values[i] - p.Mean; m2 += d * d; }
        p.M2 = m2;
        return p;
    }
}
