using TorchSerial.Errors;
using TorchSerial.Reading;
using TorchSerial.Tensors;

namespace TorchSerial.Toolbox;

/// <summary>What a checkpoint must satisfy; every part is optional but the first (it must load).</summary>
public sealed record CheckpointExpectations
{
    /// <summary>Checks only this sub-object (model, state_dict), by names relative to it.</summary>
    public string? Key { get; init; }

    /// <summary>Tensors that must be present.</summary>
    public IReadOnlyList<string> Names { get; init; } = Array.Empty<string>();

    /// <summary>Shapes that named tensors must have.</summary>
    public IReadOnlyDictionary<string, long[]> Shapes { get; init; } = new Dictionary<string, long[]>();

    /// <summary>dtypes (torch names) that named tensors must have.</summary>
    public IReadOnlyDictionary<string, string> DTypes { get; init; } = new Dictionary<string, string>();

    /// <summary>No tensor may hold NaN or an infinity.</summary>
    public bool Finite { get; init; }

    /// <summary>A checkpoint every tensor must match within tolerance (and name for name).</summary>
    public string? ReferencePath { get; init; }

    public CompareOptions Tolerance { get; init; } = new();
}

/// <summary>
/// Checks a checkpoint against expectations and returns every failure, not just the first, in words a CI log can
/// show: the Assert-TorchCheckpoint cmdlet throws them as one error, inside a Pester It or any script.
/// </summary>
public static class CheckpointAssertions
{
    public static IReadOnlyList<string> Check(string path, CheckpointExpectations expect, LoadOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        var failures = new List<string>();
        Checkpoint checkpoint;
        try { checkpoint = CheckpointReader.Open(path, options); }
        catch (TorchSerialException ex)
        {
            failures.Add($"it does not load: [{ex.ErrorId}] {ex.Message}");
            return failures;
        }
        using (checkpoint)
        {
            IReadOnlyList<Tensor> tensors;
            try { tensors = expect.Key is null ? checkpoint.Tensors
                : SubObject.Tensors(SubObject.Select(checkpoint, expect.Key)); }
            catch (TorchSerialException ex)
            {
                failures.Add($"[{ex.ErrorId}] {ex.Message}");
                return failures;
            }
            var byName = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            foreach (var t in tensors) byName.TryAdd(t.Name, t);
            foreach (var name in expect.Names.Concat(expect.Shapes.Keys).Concat(expect.DTypes.Keys).Distinct(StringComparer.Ordinal))
                if (!byName.ContainsKey(name)) failures.Add($"it has no tensor '{name}'");
            foreach (var (name, shape) in expect.Shapes)
                if (byName.TryGetValue(name, out var t) && !t.Shape.Items.AsSpan().SequenceEqual(shape))
                    failures.Add($"'{name}' has shape [{string.Join(", ", t.Shape)}], expected " +
                        $"[{string.Join(", ", shape)}]");
            foreach (var (name, dtype) in expect.DTypes)
                if (byName.TryGetValue(name, out var t) && t.DType != dtype)
                    failures.Add($"'{name}' is {t.DType}, expected {dtype}");
            try
            {
                if (expect.Finite) CheckFinite(tensors, failures, cancellationToken);
                if (expect.ReferencePath is { } reference) CheckReference(reference, expect,
                    expect.Key is null ? TensorComparer.WithSafeTensorsAliases(checkpoint) : tensors, options,
                    failures, cancellationToken);
            }
            catch (TorchSerialException ex)
            {
                failures.Add($"its data cannot be read: [{ex.ErrorId}] {ex.Message}");
            }
        }
        return failures;
    }

    private static void CheckFinite(IReadOnlyList<Tensor> tensors, List<string> failures, CancellationToken ct)
        => failures.AddRange(HostStatistics.NonFinite(tensors, ct)
            .Select(s
                => $"'{s.Name}' holds {s.NaN} NaN, {s.PositiveInfinity} +Inf and {s.NegativeInfinity} -Inf of " +
                    $"{s.Count} values"));

    private static void CheckReference(string path, CheckpointExpectations expect, IReadOnlyList<Tensor> tensors,
        LoadOptions? options,
        List<string> failures, CancellationToken ct)
    {
        Checkpoint reference;
        try { reference = CheckpointReader.Open(path, options); }
        catch (TorchSerialException ex)
        {
            failures.Add($"the reference '{path}' does not load: [{ex.ErrorId}] {ex.Message}");
            return;
        }
        using (reference)
        {
            // A golden state_dict need not hold the key the checked file is selected by: then it is used whole.
            IReadOnlyList<Tensor> expected = expect.Key is null ? TensorComparer.WithSafeTensorsAliases(reference)
                : reference.Tensors;
            if (expect.Key is not null)
                try { expected = SubObject.Tensors(SubObject.Select(reference, expect.Key)); }
                catch (TorchSerialException ex) when (ex.ErrorId == ErrorIds.KeyNotFound) { }
            foreach (var c in TensorComparer.Compare(expected, tensors, expect.Tolerance, ct))
            {
                string? why = c.Outcome switch
                {
                    ComparisonStatus.Removed => $"'{c.Name}' is in the reference but not here",
                    ComparisonStatus.Added => $"'{c.Name}' is not in the reference",
                    ComparisonStatus.DTypeChanged
                        => $"'{c.Name}' is {c.DifferenceDType}, the reference's is {c.ReferenceDType}",
                    ComparisonStatus.ShapeChanged =>
                        $"'{c.Name}' has shape [{string.Join(", ", c.DifferenceShape!)}], the reference's is " +
                            $"[{string.Join(", ", c.ReferenceShape!)}]",
                    _ when !c.IsClose
                        => $"'{c.Name}' differs from the reference: {c.Mismatched} of {c.NumElements} elements " +
                            $"beyond " +
                        $"rtol {c.RelativeTolerance:G3}, atol {c.AbsoluteTolerance:G3} (greatest absolute difference " +
                            $"{c.MaxAbsDiff:G6}, relative {c.MaxRelDiff:G6})",
                    _ => null,
                };
                if (why is not null) failures.Add(why);
            }
        }
    }
}
