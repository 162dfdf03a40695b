using TorchSerial.Containers;
using TorchSerial.Errors;
using TorchSerial.Tensors;

namespace TorchSerial.Writing;

/// <summary>
/// What a safetensors save does with tensors that share memory (formats-next.md §1.5–1.6). safetensors has no views,
/// so a name can only be written as its own bytes or recorded as <c>removed → kept</c>, and a reader rebuilds a
/// removed name from the kept one by name alone. That is exact only for an identical alias (the same storage, offset,
/// shape, stride and dtype: tied weights), so only those are deduplicated, keeping the first name in code-point
/// order as <c>save_model</c> does. Any other view of shared memory (a transpose, a slice) is written as its own
/// contiguous copy and reported, or refused with <see cref="SaveOptions.DeduplicateOnly"/>; nothing is dropped.
/// With <see cref="SaveOptions.CopySharedTensors"/> every name is written.
/// </summary>
internal sealed class SharedTensorPlan
{
    private SharedTensorPlan(List<KeyValuePair<string, Tensor>> kept, List<KeyValuePair<string, string>> removed)
    {
        Kept = kept;
        Removed = removed;
    }

    /// <summary>The tensors to write, in their input order.</summary>
    public IReadOnlyList<KeyValuePair<string, Tensor>> Kept { get; }

    /// <summary>Dropped name → the kept name that holds its bytes, sorted by the dropped name.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Removed { get; }

    public static SharedTensorPlan Make(IReadOnlyList<KeyValuePair<string, Tensor>> tensors, SaveOptions options)
    {
        var drop = new Dictionary<string, string>(StringComparer.Ordinal);
        var copies = new List<string>();
        if (!options.CopySharedTensors)
        {
            var byStorage = tensors.Where(t => t.Value.NumElements > 0 && t.Value.Storage.NumBytes > 0)
                .GroupBy(t => t.Value.Storage, ReferenceEqualityComparer.Instance);
            foreach (var group in byStorage)
            {
                if (group.Count() < 2) continue;
                foreach (var cluster in Overlapping(group.ToList()))
                {
                    if (cluster.Count < 2) continue;
                    var views = cluster.GroupBy(t => ViewKey(t.Value))
                        .Select(v => v.Select(t => t.Key).OrderBy(n => n, SafeTensorsFormat.NameOrder).ToList())
                        .ToList();
                    foreach (var aliases in views)
                        foreach (var name in aliases.Skip(1)) drop[name] = aliases[0];
                    if (views.Count < 2) continue;
                    // The view that covers the storage keeps its bytes as they are; every other one is a copy.
                    var cover = cluster.Where(t => Covers(t.Value)).Select(t => t.Key)
                        .ToHashSet(StringComparer.Ordinal);
                    copies.AddRange(views.Select(v => v[0]).Where(n => !cover.Contains(n)));
                }
            }
        }
        copies.Sort(SafeTensorsFormat.NameOrder);
        if (copies.Count > 0 && options.DeduplicateOnly)
            throw new TorchSerialException(ErrorIds.SafeTensorsSharedStorage, ErrorKind.InvalidData,
                $"{string.Join(", ", copies.Select(n => $"'{n}'"))} " +
                $"{(copies.Count == 1 ? "is a view" : "are views")} " +
                "of memory another tensor shares, not identical aliases: safetensors cannot record a view, so each " +
                "would be written as its own contiguous copy, and -DeduplicateOnly refuses that. Drop " +
                "-DeduplicateOnly to write the copies, or save a torch file, which keeps views.");
        foreach (var name in copies) options.Copied?.Invoke(name);
        var kept = tensors.Where(t => !drop.ContainsKey(t.Key)).ToList();
        var removed = drop.OrderBy(d => d.Key, SafeTensorsFormat.NameOrder).ToList();
        return new SharedTensorPlan(kept, removed);
    }

    /// <summary>What makes two tensors the same view: offset, shape, stride and dtype over one storage.</summary>
    private static (DType, long, DimList, DimList) ViewKey(Tensor t)
        => (t.DTypeInfo, t.StorageOffset, t.Shape, t.Stride);

    /// <summary>Splits tensors over one storage into runs whose byte ranges overlap.</summary>
    private static IEnumerable<List<KeyValuePair<string, Tensor>>> Overlapping(List<KeyValuePair<string,
        Tensor>> tensors)
    {
        var sorted = tensors.Select(t => (t, Range: ByteRange(t.Value))).OrderBy(x => x.Range.Start).ToList();
        var cluster = new List<KeyValuePair<string, Tensor>>();
        long end = long.MinValue;
        foreach (var (t, (start, stop)) in sorted)
        {
            if (cluster.Count > 0 && start >= end)
            {
                yield return cluster;
                cluster = new List<KeyValuePair<string, Tensor>>();
            }
            cluster.Add(t);
            end = Math.Max(end, stop);
        }
        if (cluster.Count > 0) yield return cluster;
    }

    /// <summary>From the first to just past the last byte the view touches.</summary>
    private static (long Start, long Stop) ByteRange(Tensor t)
    {
        long last = t.StorageOffset;
        for (int i = 0; i < t.Rank; i++) last += (t.Shape[i] - 1) * t.Stride[i];
        return (t.StorageOffset * t.DTypeInfo.ItemSize, (last + 1) * t.DTypeInfo.ItemSize);
    }

    private static bool Covers(Tensor t) => t.StorageOffset == 0 && t.NumBytes == t.Storage.NumBytes && t.IsContiguous;
}
