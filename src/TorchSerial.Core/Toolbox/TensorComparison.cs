using TorchSerial.Tensors;
namespace TorchSerial.Toolbox;

/// <summary>How a tensor of two checkpoints compares.</summary>
public enum ComparisonStatus
{
    /// <summary>Same dtype, shape and logical bytes.</summary>
    Equal,
    /// <summary>Same dtype and shape, different values (see IsClose for whether they are within tolerance).</summary>
    Changed,
    DTypeChanged,
    ShapeChanged,
    /// <summary>Only in the difference checkpoint.</summary>
    Added,
    /// <summary>Only in the reference checkpoint.</summary>
    Removed,
}

/// <summary>
/// One name of a comparison: its status and, where both sides have values, the greatest absolute and relative
/// differences (torch.testing's "greatest absolute/relative difference", relative to the reference) and how many
/// elements are not close under the tolerances used.
/// </summary>
public sealed record TensorComparison
{
    public required string Name { get; init; }
    /// <summary>Equal, Changed, DTypeChanged, ShapeChanged, Added or Removed (<see cref="ComparisonStatus"/>), by
    /// name.</summary>
    public string Status => Outcome.ToString();
    internal ComparisonStatus Outcome { get; init; }
    public string? ReferenceDType { get; init; }
    public string? DifferenceDType { get; init; }
    public DimList? ReferenceShape { get; init; }
    public DimList? DifferenceShape { get; init; }
    public long NumElements { get; init; }

    /// <summary>Elements that are not close (|d − r| > atol + rtol·|r|, NaN against anything but NaN with
    /// EqualNan).</summary>
    public long Mismatched { get; init; }
    public double MaxAbsDiff { get; init; }
    public double MaxRelDiff { get; init; }

    /// <summary>True when every element is close: what torch.testing.assert_close would accept. False when not
    /// comparable.</summary>
    public bool IsClose { get; init; }
    public double RelativeTolerance { get; init; }
    public double AbsoluteTolerance { get; init; }
}
