using TorchSerial.Containers;
using TorchSerial.Errors;
using TorchSerial.Tensors;

namespace TorchSerial.Writing;

/// <summary>
/// What safetensors' <c>save_model</c> does with tensors that share memory (formats-next.md §1.5–1.6): tensors whose
/// byte ranges in one storage overlap form a group; the group keeps the first name (in code-point order) of those
/// that cover the whole storage, and the others are dropped and recorded as <c>removed → kept</c>. Disjoint views
/// of one storage are not shared and all stay. A group that no tensor covers is an error unless copies are asked for.
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

    public static SharedTensorPlan Make(IReadOnlyList<KeyValuePair<string, Tensor>> tensors, bool copyShared)
    {
        var drop = new Dictionary<string, string>(StringComparer.Ordinal);
        var byStorage = tensors.Where(t => t.Value.NumElements > 0 && t.Value.Storage.NumBytes > 0)
            .GroupBy(t => t.Value.Storage, ReferenceEqualityComparer.Instance);
        foreach (var group in byStorage)
        {
            if (group.Count() < 2) continue;
            foreach (var cluster in Overlapping(group.ToList()))
            {
                if (cluster.Count < 2) continue;
                var complete = cluster.Where(t => Covers(t.Value)).Select(t => t.Key).OrderBy(n => n,
                    SafeTensorsFormat.NameOrder).ToList();
                if (complete.Count == 0)
                {
                    if (copyShared) continue;
                    throw new TorchSerialException(ErrorIds.SafeTensorsSharedStorage, ErrorKind.InvalidData,
                        $"Tensors {string.Join(", ", cluster.Select(t => $"'{t.Key}'"))} share memory, and none of " +
                            $"them covers its whole " +
                        "storage, so safetensors cannot keep one and drop the others (save_model refuses this too). " +
                            "Use -CopySharedTensors " +
                        "to write each as its own contiguous copy.");
                }
                foreach (var t in cluster)
                    if (t.Key != complete[0]) drop[t.Key] = complete[0];
            }
        }
        var kept = tensors.Where(t => !drop.ContainsKey(t.Key)).ToList();
        var removed = drop.OrderBy(d => d.Key, SafeTensorsFormat.NameOrder).ToList();
        return new SharedTensorPlan(kept, removed);
    }

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
        return (t.StorageOffset * t.DType.ItemSize, (last + 1) * t.DType.ItemSize);
    }

    private static bool Covers(Tensor t) => t.StorageOffset == 0 && t.NumBytes == t.Storage.NumBytes && t.IsContiguous;
}
