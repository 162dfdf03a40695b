using TorchSerial.Buffers.Remote;
using TorchSerial.Containers;
using TorchSerial.Errors;
using TorchSerial.Python;
using TorchSerial.Tensors;

namespace TorchSerial.Reading;

/// <summary>
/// Opens a sharded set (a <c>*.index.json</c> and the shards it names, in any format) as one checkpoint whose
/// tensors come in the index's order, each still saying which shard it came from. The set is checked whole before
/// anything is returned: a missing shard, a tensor the index names but its shard lacks, a tensor no index entry
/// lists, a tensor in two shards, a total_size that disagrees. Each is an error unless the caller tolerates them.
/// </summary>
internal static class ShardedSetReader
{
    public static Checkpoint Open(string indexPath, Stream indexStream, LoadOptions options, bool eager,
        CancellationToken ct)
    {
        if (indexStream.Length > ShardIndex.MaxLength)
            throw Fail.Data(ErrorIds.ShardIndexInvalid,
                $"The shard index is {indexStream.Length} bytes, more than an index can be ({ShardIndex.MaxLength}).");
        var index = ShardIndex.Parse(ZipDirectory.ReadAt(indexStream, 0, (int)indexStream.Length));
        // A remote index's shards are its siblings on the same server (or in the same Hub repo and revision).
        var remote = RemoteAddress.IsRemote(indexPath) ? RemoteAddress.Parse(indexPath) : null;
        string folder = remote is null ? Path.GetDirectoryName(Path.GetFullPath(indexPath))! : "";
        var problems = new List<TorchSerialException>();
        var shards = new List<Checkpoint>();
        try
        {
            var byShard = new Dictionary<string, Checkpoint>(StringComparer.Ordinal);
            foreach (var name in index.Shards)
            {
                string file = remote?.Sibling(name).Text ?? Path.Combine(folder, name);
                if (remote is null && !File.Exists(file))
                {
                    problems.Add(Missing(index, name));
                    continue;
                }
                Checkpoint shard;
                try { shard = CheckpointReader.Open(file, options, ct); }
                catch (TorchSerialException ex) when (remote is not null && ex.ErrorId == ErrorIds.RemoteNotFound)
                {
                    problems.Add(Missing(index, name));
                    continue;
                }
                catch (TorchSerialException ex)
                {
                    throw new TorchSerialException(ex.ErrorId, ex.Kind,
                        $"Shard '{name}' of the set cannot be read: {ex.Message}", ex)
                    { Record = name, Offset = ex.Offset };
                }
                shards.Add(shard);
                if (shard.Format == CheckpointFormat.ShardedSet)
                    throw Fail.Data(ErrorIds.ShardIndexInvalid,
                        $"The shard '{name}' is itself a shard index; sets do not nest.", name);
                byShard[name] = shard;
            }
            var tensors = Match(index, byShard, problems);
            CheckTotalSize(index, shards, tensors, problems);
            if (problems.Count > 0)
            {
                if (options.Warning is null) throw Summarize(problems, indexPath);
                foreach (var p in problems) options.Warning(p.Message);
            }

            var root = new PyDict();
            foreach (var t in tensors) root.Add(t.Name, t);
            var storages = tensors.Select(t
                => t.Storage).Distinct(ReferenceEqualityComparer.Instance).Cast<Storage>().ToList();
            var metadata = PyDict.FromPairs(index.Metadata);
            var graph = new LoadedGraph(CheckpointFormat.ShardedSet, root, storages,
                index.Shards) { PickleProtocol = 0, Metadata = metadata };
            return CheckpointReader.Finish(indexPath, graph, tensors, new CheckpointOwners(shards), eager, options, ct);
        }
        catch
        {
            foreach (var s in shards) s.Dispose();
            throw;
        }
    }

    private static TorchSerialException Missing(ShardIndex index, string name) => Fail.Data(ErrorIds.ShardMissing,
        $"The index names the shard '{name}' ({index.WeightMap.Count(w => w.Value == name)} tensors), but there is " +
            "no such file beside it.", name);

    /// <summary>The index's tensors found in their shards, in index order; what does not match becomes a
    /// problem.</summary>
    private static List<Tensor> Match(ShardIndex index, Dictionary<string, Checkpoint> byShard,
        List<TorchSerialException> problems)
    {
        var holders = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        var inShard = new Dictionary<(string Shard, string Name), Tensor>();
        foreach (var (shardName, shard) in byShard)
            foreach (var t in shard.Tensors)
            {
                if (!inShard.TryAdd((shardName, t.Name), t)) continue;
                if (!holders.TryGetValue(t.Name, out var list)) holders[t.Name] = list = new List<string>(1);
                list.Add(shardName);
            }
        var listed = new HashSet<string>(index.WeightMap.Select(w => w.Key), StringComparer.Ordinal);
        foreach (var (name, files) in holders)
        {
            if (files.Count > 1)
                problems.Add(Fail.Data(ErrorIds.ShardDuplicateTensor,
                    $"Tensor '{name}' is in {files.Count} shards ({string.Join(", ", files)}); a loader keeps " +
                        $"whichever it reads last.", name));
            else if (!listed.Contains(name))
                problems.Add(Fail.Data(ErrorIds.ShardUnlistedTensor,
                    $"The shard '{files[0]}' holds tensor '{name}', which the index does not list: the index is " +
                        $"stale or incomplete.", name));
        }
        var tensors = new List<Tensor>(index.WeightMap.Count);
        foreach (var (name, shardName) in index.WeightMap)
        {
            if (!byShard.ContainsKey(shardName)) continue; // reported as a missing shard
            if (inShard.TryGetValue((shardName, name), out var t)) { tensors.Add(t); continue; }
            string elsewhere = holders.TryGetValue(name, out var files) ? $"; it is in '{files[0]}' instead" : "";
            problems.Add(Fail.Data(ErrorIds.ShardTensorMissing,
                $"The index puts tensor '{name}' in '{shardName}', but that shard does not hold it{elsewhere}.", name));
        }
        return tensors;
    }

    /// <summary>
    /// total_size counts every distinct storage once (huggingface_hub); older transformers counted each tensor's bytes.
    /// Either agreeing is accepted.
    /// </summary>
    private static void CheckTotalSize(ShardIndex index, List<Checkpoint> shards, List<Tensor> tensors,
        List<TorchSerialException> problems)
    {
        if (index.TotalSize is not { } claimed || problems.Count > 0) return;
        long storageBytes = shards.SelectMany(s => s.Storages).Sum(s => s.NumBytes);
        long tensorBytes = tensors.Sum(t => t.NumBytes);
        if (claimed != storageBytes && claimed != tensorBytes)
            problems.Add(Fail.Data(ErrorIds.ShardTotalSizeMismatch,
                $"The index says total_size is {claimed} bytes, but the shards hold {storageBytes} bytes of storage " +
                $"({tensorBytes} bytes of tensors): the index does not describe these shards."));
    }

    private static TorchSerialException Summarize(List<TorchSerialException> problems, string indexPath)
    {
        var first = problems[0];
        string more = problems.Count == 1 ? "" :
            $" {problems.Count - 1} more problem(s): " + string.Join(" ", problems.Skip(1).Take(9).Select(p
                => $"[{p.ErrorId}] {p.Message}")) +
            (problems.Count > 10 ? $" … and {problems.Count - 10} more." : "");
        return new TorchSerialException(first.ErrorId, first.Kind,
            $"The sharded set '{Path.GetFileName(indexPath)}' is inconsistent: {first.Message}{more} Fix or " +
                $"regenerate the set, or load " +
            "it with -SkipIndexCheck to take what the shards hold.") { Record = first.Record };
    }
}
