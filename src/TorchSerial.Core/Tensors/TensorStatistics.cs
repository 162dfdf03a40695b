namespace TorchSerial.Tensors;

/// <summary>
/// What Measure-Tensor reports for one tensor, as torch computes the same figures: NaN, ±Inf and zero counts,
/// and min, max, mean, standard deviation (unbiased, torch.std's default) and L2 norm, all accumulated in double
/// precision. As in torch, one NaN makes min, max, mean, std and norm NaN. Complex tensors count their real and
/// imaginary parts as separate values.
/// </summary>
public sealed record TensorStatistics
{
    public required string Name { get; init; }
    public required string DType { get; init; }
    public required DimList Shape { get; init; }
    public long Count { get; init; }
    public long NaN { get; init; }
    public long PositiveInfinity { get; init; }
    public long NegativeInfinity { get; init; }
    public long Zeros { get; init; }
    public double Min { get; init; }
    public double Max { get; init; }
    public double Mean { get; init; }

    /// <summary>The unbiased (N − 1) standard deviation, torch.std's default; NaN for fewer than two values.</summary>
    public double Std { get; init; }

    /// <summary>The L2 norm, sqrt(Σ x²), as torch.linalg.norm of the flattened tensor.</summary>
    public double Norm { get; init; }

    /// <summary>Where the figures were computed: 'cpu' (SIMD on the host) or the accelerator that holds the
    /// tensor.</summary>
    public string ComputedOn { get; init; } = "cpu";
    public string? SourceFile { get; init; }

    /// <summary>True when every value is finite (no NaN, no infinity).</summary>
    public bool IsFinite => NaN == 0 && PositiveInfinity == 0 && NegativeInfinity == 0;
}

/// <summary>
/// Partial figures of a run of values, merged in any order (Chan et al.'s pairwise update for the variance), so
/// chunks on several cores or blocks of a device kernel combine into one exact-as-possible result.
/// </summary>
public struct StatisticsPartial
{
    public long Count, NaN, PositiveInfinity, NegativeInfinity, Zeros;
    public double Min, Max, Mean, M2, SumSquares;

    public static StatisticsPartial Empty => new() { Min = double.PositiveInfinity, Max = double.NegativeInfinity };

    /// <summary>Adds the figures of <paramref name="other"/> (values counted in neither twice).</summary>
    public void Merge(in StatisticsPartial other)
    {
        if (other.Count == 0) return;
        long n = Count + other.Count;
        double delta = other.Mean - Mean;
        // Infinite means give NaN deltas; the result is NaN or infinite either way, as torch's is.
        double mean = Count == 0 ? other.Mean : Mean + delta * other.Count / n;
        M2 = Count == 0 ? other.M2 : M2 + other.M2 + delta * delta * ((double)Count * other.Count / n);
        Mean = mean;
        Count = n;
        NaN += other.NaN;
        PositiveInfinity += other.PositiveInfinity;
        NegativeInfinity += other.NegativeInfinity;
        Zeros += other.Zeros;
        Min = Math.Min(Min, other.Min);
        Max = Math.Max(Max, other.Max);
        SumSquares += other.SumSquares;
    }

    public readonly TensorStatistics ToResult(Tensor tensor, string computedOn)
    {
        bool nan = NaN > 0;
        return new TensorStatistics
        {
            Name = tensor.Name, DType = tensor.DType, Shape = tensor.Shape, Count = Count, NaN = NaN,
            PositiveInfinity = PositiveInfinity, NegativeInfinity = NegativeInfinity, Zeros = Zeros,
            Min = nan || Count == 0 ? double.NaN : Min, Max = nan || Count == 0 ? double.NaN : Max,
            Mean = nan || Count == 0 ? double.NaN : Mean,
            Std = nan || Count < 2 ? double.NaN : Math.Sqrt(M2 / (Count - 1)),
            Norm = nan ? double.NaN : Math.Sqrt(SumSquares),
            ComputedOn = computedOn, SourceFile = tensor.SourceFile,
        };
    }
}
