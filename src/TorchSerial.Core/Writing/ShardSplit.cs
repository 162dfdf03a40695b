using TorchSerial.Tensors;

namespace TorchSerial.Writing;

/// <summary>
/// huggingface_hub's greedy split (formats-next.md §1.7), reproduced so our sets match the ones it writes: tensors in
/// input order, each storage counted once at its full size; a tensor over a storage already seen joins that
/// storage's shard; one larger than the limit becomes a shard of its own at once (so shard order can differ from
/// key order); otherwise a shard closes when the next tensor would tip it over the limit.
/// </summary>
internal static class ShardSplit
{
    public static (List<List<KeyValuePair<string, Tensor>>> Shards, long TotalSize) Split(
        IReadOnlyList<KeyValuePair<string, Tensor>> tensors, long maxShardSize)
    {
        var shards = new List<List<KeyValuePair<string, Tensor>>>();
        var current = new List<KeyValuePair<string, Tensor>>();
        var followers = new Dictionary<Storage, List<KeyValuePair<string, Tensor>>>(ReferenceEqualityComparer.Instance);
        var leaders = new List<(Storage Storage, string Name)>();
        long currentSize = 0, total = 0;
        foreach (var entry in tensors)
        {
            var storage = entry.Value.Storage;
            if (followers.TryGetValue(storage, out var later)) { later.Add(entry); continue; }
            followers[storage] = new List<KeyValuePair<string, Tensor>>();
            leaders.Add((storage, entry.Key));
            long size = storage.NumBytes;
            total += size;
            if (size > maxShardSize)
            {
                shards.Add(new List<KeyValuePair<string, Tensor>> { entry });
                continue;
            }
            if (currentSize + size > maxShardSize)
            {
                shards.Add(current);
                current = new List<KeyValuePair<string, Tensor>>();
                currentSize = 0;
            }
            current.Add(entry);
            currentSize += size;
        }
        if (current.Count > 0) shards.Add(current);
        // Tensors over a storage seen before go, in order, to the end of the shard of the storage's first tensor.
        foreach (var (storage, name) in leaders)
        {
            var rest = followers[storage];
            if (rest.Count == 0) continue;
            shards.First(s => s.Exists(e => e.Key == name)).AddRange(rest);
        }
        return (shards, total);
    }
}
