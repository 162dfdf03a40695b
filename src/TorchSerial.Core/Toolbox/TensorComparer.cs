using TorchSerial.Buffers;
using TorchSerial.Tensors;

namespace TorchSerial.Toolbox;

/// <summary>The tolerances and NaN rule of a comparison; null tolerances take torch.testing.assert_close's defaults per
/// dtype.</summary>
public sealed record CompareOptions
{
    public double? RelativeTolerance { get; init; }
    public double? AbsoluteTolerance { get; init; }

    /// <summary>NaN equals NaN, as assert_close's equal_nan=True.</summary>
    public bool EqualNan { get; init; }

    /// <summary>
    /// Compares tensors of different dtypes by value, as assert_close's check_dtype=False: both sides are read in
    /// double precision, and the default tolerances are those of the less precise dtype (the larger of each).
    /// </summary>
    public bool IgnoreDType { get; init; }
}

/// <summary>
/// Compares two lists of tensors by name, streaming both chunk by chunk: bytes first (equal bytes are Equal at
/// once), then element values in double precision against assert_close's rule |d − r| ≤ atol + rtol·|r|.
/// </summary>
public static class TensorComparer
{
    private const int ChunkBytes = 1 << 20;

    /// <summary>assert_close's default (rtol, atol) for a dtype (torch/testing/_comparison.py); exact for the
    /// rest.</summary>
    public static (double Rtol, double Atol) DefaultTolerance(DType dtype) => dtype.Name switch
    {
        "float16" => (1e-3, 1e-5),
        "bfloat16" => (1.6e-2, 1e-5),
        "float32" => (1.3e-6, 1e-5),
        "float64" => (1e-7, 1e-7),
        "complex32" => (1e-3, 1e-5),
        "complex64" => (1.3e-6, 1e-5),
        "complex128" => (1e-7, 1e-7),
        _ => (0, 0),
    };

    /// <summary>One result per name: the reference's names in order, then the names only the difference has.</summary>
    public static IEnumerable<TensorComparison> Compare(IReadOnlyList<Tensor> reference,
        IReadOnlyList<Tensor> difference,
        CompareOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new CompareOptions();
        var other = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var t in difference) other.TryAdd(t.Name, t);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var names = reference.Where(r => seen.Add(r.Name)).ToList();
        // A window of tensors at a time on every core, results in reference order: progress still moves per window,
        // and memory stays at a few chunks per core.
        // Tensors held by an accelerator are read on this thread only: a device context (CUDA's) belongs to one thread.
        bool device = reference.Concat(difference).Any(t => t.Device != "cpu");
        int window = device ? 1 : 4 * Environment.ProcessorCount;
        var results = new TensorComparison[window];
        for (int start = 0; start < names.Count; start += window)
        {
            int count = Math.Min(window, names.Count - start);
            ParallelChunks.Each(count, i =>
            {
                var r = names[start + i];
                results[i] = other.TryGetValue(r.Name, out var d) ? CompareOne(r, d, options, cancellationToken)
                    : new TensorComparison
                    {
                        Name = r.Name, Outcome = ComparisonStatus.Removed, ReferenceDType = r.DType,
                            ReferenceShape = r.Shape,
                        NumElements = r.NumElements,
                    };
            }, cancellationToken);
            for (int i = 0; i < count; i++) yield return results[i];
        }
        foreach (var d in difference)
            if (seen.Add(d.Name))
                yield return new TensorComparison
                {
                    Name = d.Name, Outcome = ComparisonStatus.Added, DifferenceDType = d.DType,
                        DifferenceShape = d.Shape,
                    NumElements = d.NumElements,
                };
    }

    public static TensorComparison CompareOne(Tensor reference, Tensor difference, CompareOptions options,
        CancellationToken ct = default)
    {
        var (rtol, atol) = DefaultTolerance(reference.DTypeInfo);
        bool crossDType = reference.DType != difference.DType;
        // Only a comparison by value across dtypes uses the less precise dtype's tolerances.
        if (crossDType && options.IgnoreDType)
        {
            var other = DefaultTolerance(difference.DTypeInfo);
            (rtol, atol) = (Math.Max(rtol, other.Rtol), Math.Max(atol, other.Atol));
        }
        rtol = options.RelativeTolerance ?? rtol;
        atol = options.AbsoluteTolerance ?? atol;
        var result = new TensorComparison
        {
            Name = reference.Name, Outcome = ComparisonStatus.Equal, ReferenceDType = reference.DType,
                DifferenceDType = difference.DType,
            ReferenceShape = reference.Shape, DifferenceShape = difference.Shape, NumElements = reference.NumElements,
            RelativeTolerance = rtol, AbsoluteTolerance = atol, IsClose = true,
        };
        if (crossDType && !(options.IgnoreDType && ComparableByValue(reference.DTypeInfo, difference.DTypeInfo)))
            return result with { Outcome = ComparisonStatus.DTypeChanged, IsClose = false };
        if (reference.Shape != difference.Shape)
            return result with { Outcome = ComparisonStatus.ShapeChanged, IsClose = false };
        // Meta tensors have no values: two of one dtype and shape are equal; a meta tensor and a real one are not.
        if (reference.IsMeta || difference.IsMeta)
            return reference.IsMeta && difference.IsMeta ? result
                : result with { Outcome = ComparisonStatus.Changed, IsClose = false, Mismatched = reference.NumElements,
                    MaxAbsDiff = double.NaN, MaxRelDiff = double.NaN };

        var stats = new Accumulator(rtol, atol, options.EqualNan);
        if (crossDType) return CompareValues(reference, difference, stats, result, ct);
        bool bytesEqual = true;
        int per = ElementValues.PerElement(reference.DTypeInfo);
        double[] rv = Array.Empty<double>(), dv = Array.Empty<double>();
        using var a = reference.EnumerateChunks(ChunkBytes).GetEnumerator();
        using var b = difference.EnumerateChunks(ChunkBytes).GetEnumerator();
        while (a.MoveNext() && b.MoveNext())
        {
            ct.ThrowIfCancellationRequested();
            int n = a.Current.Length / reference.DTypeInfo.ItemSize * per;
            if (rv.Length < n) { rv = new double[n]; dv = new double[n]; }
            if (a.Current.AsSpan().SequenceEqual(b.Current))
            {
                // Identical bytes are equal values, but a NaN is still not close to itself unless NaN equals NaN.
                if (!options.EqualNan && MayHoldNaN(reference.DTypeInfo))
                {
                    ElementValues.ToDouble(reference.DTypeInfo, a.Current, rv);
                    stats.CountNaN(rv.AsSpan(0, n));
                }
                continue;
            }
            bytesEqual = false;
            ElementValues.ToDouble(reference.DTypeInfo, a.Current, rv);
            ElementValues.ToDouble(difference.DTypeInfo, b.Current, dv);
            stats.Add(rv.AsSpan(0, n), dv.AsSpan(0, n));
        }
        // Bytes can differ where values do not (-0.0 and 0.0, NaN payloads under EqualNan): that is still Equal.
        return result with
        {
            Outcome = bytesEqual || stats.Different == 0 ? ComparisonStatus.Equal : ComparisonStatus.Changed,
                Mismatched = stats.Mismatched, MaxAbsDiff = stats.MaxAbs, MaxRelDiff = stats.MaxRel,
            IsClose = stats.Mismatched == 0,
        };
    }

    /// <summary>
    /// Different dtypes compared value by value, a window of elements at a time from both sides (their chunks hold
    /// different byte counts, so they are read by element index). Every value is widened to double, which holds every
    /// value of every dtype compared here exactly except int64 beyond 2^53.
    /// </summary>
    private static TensorComparison CompareValues(Tensor reference, Tensor difference, Accumulator stats,
        TensorComparison result, CancellationToken ct)
    {
        int per = ElementValues.PerElement(reference.DTypeInfo);
        long window = Math.Max(1, ChunkBytes / Math.Max(reference.DTypeInfo.ItemSize, difference.DTypeInfo.ItemSize));
        var rv = new double[(int)Math.Min(window, Math.Max(1, reference.NumElements)) * per];
        var dv = new double[rv.Length];
        for (long at = 0; at < reference.NumElements; at += window)
        {
            ct.ThrowIfCancellationRequested();
            long n = Math.Min(window, reference.NumElements - at);
            ElementValues.ToDouble(reference.DTypeInfo, reference.ReadBytes(at, n), rv);
            ElementValues.ToDouble(difference.DTypeInfo, difference.ReadBytes(at, n), dv);
            stats.Add(rv.AsSpan(0, (int)n * per), dv.AsSpan(0, (int)n * per));
        }
        return result with
        {
            Outcome = stats.Different == 0 ? ComparisonStatus.Equal : ComparisonStatus.Changed,
            Mismatched = stats.Mismatched, MaxAbsDiff = stats.MaxAbs, MaxRelDiff = stats.MaxRel,
            IsClose = stats.Mismatched == 0,
        };
    }

    /// <summary>Two dtypes whose values compare one to one: both real or both complex, neither packed nor
    /// quantized.</summary>
    private static bool ComparableByValue(DType a, DType b)
        => ElementValues.PerElement(a) == ElementValues.PerElement(b) && !a.IsQuantized && !b.IsQuantized
            && a.Kind != ElementKind.Packed && b.Kind != ElementKind.Packed;

    /// <summary>
    /// A safetensors file's tensors with the names save_model removed as aliases (<c>removed → kept</c> in its
    /// metadata) put back, each as the kept tensor under its own name, so a tied weight compares Equal rather than
    /// Removed. Other files, and metadata that names no kept tensor, are returned as they are.
    /// </summary>
    public static IReadOnlyList<Tensor> WithSafeTensorsAliases(Reading.Checkpoint checkpoint)
    {
        var (tensors, metadata) = (checkpoint.Tensors, checkpoint.Metadata);
        if (checkpoint.Format != Containers.CheckpointFormat.SafeTensors || metadata is null || metadata.Count < 2)
            return tensors;
        var byName = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var t in tensors) byName.TryAdd(t.Name, t);
        var result = new List<Tensor>(tensors);
        foreach (System.Collections.DictionaryEntry e in metadata)
            if (e.Key is string removed && e.Value is string kept && !byName.ContainsKey(removed)
                && byName.TryGetValue(kept, out var source))
                result.Add(source.WithName(removed));
        return result;
    }

    private static bool MayHoldNaN(DType d)
        => d.Kind is not (ElementKind.SignedInt or ElementKind.UnsignedInt or ElementKind.Bool or ElementKind.Packed);

    /// <summary>The running greatest differences and mismatch count.</summary>
    private sealed class Accumulator(double rtol, double atol, bool equalNan)
    {
        public long Mismatched, Different;
        public double MaxAbs, MaxRel;

        /// <summary>NaNs where both sides hold the same bytes: not close under assert_close's default
        /// equal_nan=False.</summary>
        public void CountNaN(ReadOnlySpan<double> values)
        {
            foreach (double v in values)
                if (double.IsNaN(v)) { Mismatched++; MaxAbs = MaxRel = double.NaN; }
        }

        public void Add(ReadOnlySpan<double> expected, ReadOnlySpan<double> actual)
        {
            for (int i = 0; i < expected.Length; i++)
            {
                double e = expected[i], x = actual[i];
                if (e == x) continue; // also equal infinities
                if (double.IsNaN(e) || double.IsNaN(x))
                {
                    if (equalNan && double.IsNaN(e) && double.IsNaN(x)) continue;
                    Different++;
                    Mismatched++;
                    MaxAbs = MaxRel = double.NaN;
                    continue;
                }
                Different++;
                double diff = Math.Abs(x - e);
                double rel = diff / Math.Abs(e);
                if (!double.IsNaN(MaxAbs)) { MaxAbs = Math.Max(MaxAbs, diff); MaxRel = Math.Max(MaxRel, rel); }
                // An infinity is close only to the same infinity (handled above), as torch.isclose has it.
                if (double.IsInfinity(e) || double.IsInfinity(x) || !(diff <= atol + rtol * Math.Abs(e))) Mismatched++;
            }
        }
    }
}
