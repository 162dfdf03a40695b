using System.Text.RegularExpressions;
using TorchSerial.Containers;
using TorchSerial.Errors;
using TorchSerial.Python;
using TorchSerial.Tensors;

namespace TorchSerial.Writing;

/// <summary>
/// Writes a sharded set as huggingface_hub does: <c>model-00001-of-00003.safetensors</c> (or <c>.bin</c> torch files)
/// beside <c>model.safetensors.index.json</c>; one shard means one plain file and no index. Each shard is written
/// atomically, the index last, so a reader never sees an index naming shards that are not there yet.
/// </summary>
internal static class ShardedWriter
{
    /// <returns>The files written; the index first when there is one.</returns>
    public static IReadOnlyList<string> Save(IReadOnlyList<KeyValuePair<string, Tensor>> tensors, string path,
        SaveOptions options,
        bool overwrite, CancellationToken ct)
    {
        bool safe = options.Layout == SaveLayout.SafeTensors;
        var removed = new List<KeyValuePair<string, string>>();
        if (safe)
        {
            var plan = SharedTensorPlan.Make(tensors, options);
            tensors = plan.Kept;
            removed.AddRange(plan.Removed);
        }
        var (shards, total) = ShardSplit.Split(tensors, options.MaxShardSize!.Value);
        // safetensors has no shared storage: every tensor kept is its own bytes in the file, so the set holds their
        // sum. Counting distinct storages undercounts tied tensors written as copies (-CopySharedTensors), and the
        // set's own reader then refuses the index (ShardTotalSizeMismatch), as it should.
        if (safe) total = tensors.Sum(t => t.Value.NumBytes);
        string folder = Path.GetDirectoryName(path)!;
        string file = Path.GetFileName(path);
        string ext = Path.GetExtension(file), stem = Path.GetFileNameWithoutExtension(file);
        string indexPath = path + ".index.json";
        var names = shards.Count == 1 ? new List<string> { file }
            : Enumerable.Range(1, shards.Count).Select(i => $"{stem}-{i:D5}-of-{shards.Count:D5}{ext}").ToList();

        var stale = StaleShards(folder, stem, ext).Where(f => !names.Contains(Path.GetFileName(f),
            StringComparer.Ordinal)).ToList();
        if (!options.ReplaceSet && shards.Count > 1)
        {
            var existing = names.Select(n => Path.Combine(folder, n)).Append(indexPath).Where(File.Exists).ToList();
            if (existing.Count > 0)
                throw new TorchSerialException(ErrorIds.ShardSetExists, ErrorKind.ResourceUnavailable,
                    $"A set already exists at '{indexPath}' " +
                        $"({string.Join(", ", existing.Select(Path.GetFileName))}); use -Force to replace it " +
                    "and remove its stale shards.");
        }

        var written = new List<string>();
        long done = 0, bytes = shards.Sum(StorageBytes);
        int itemsDone = 0, items = shards.Sum(s => s.Count);
        var shardOptions = options with
        {
            MaxShardSize = null,
            Metadata = shards.Count == 1 ? options.Metadata : null,
            Progress = options.Progress is null ? null : (d, _) => options.Progress(done + d, bytes),
            ItemProgress = options.ItemProgress is null ? null : (n, _) => options.ItemProgress(itemsDone + n, items),
        };
        for (int i = 0; i < shards.Count; i++)
        {
            ct.ThrowIfCancellationRequested();
            string target = Path.Combine(folder, names[i]);
            var root = new PyDict();
            foreach (var (name, t) in shards[i]) root.Add(name, t);
            CheckpointWriter.WriteOne(root, target, shardOptions, shards.Count == 1 ? removed
                : Array.Empty<KeyValuePair<string, string>>(),
                overwrite || options.ReplaceSet, ct);
            done += StorageBytes(shards[i]);
            itemsDone += shards[i].Count;
            written.Add(target);
        }
        if (shards.Count > 1)
        {
            var metadata = new List<KeyValuePair<string, object?>> { new("total_size", total) };
            foreach (var (k, v) in removed) metadata.Add(new(k, v));
            foreach (var (k, v) in options.Metadata ?? Array.Empty<KeyValuePair<string, string>>()) metadata.Add(new(k,
                v));
            var weightMap = shards.SelectMany((s, i) => s.Select(e => new KeyValuePair<string, string>(e.Key,
                names[i]))).ToList();
            var index = ShardIndex.Create(metadata, weightMap);
            AtomicFile.Write(indexPath, overwrite: true, s => s.Write(index.ToBytes()));
            written.Insert(0, indexPath);
        }
        if (options.ReplaceSet)
        {
            foreach (var f in stale) File.Delete(f);
            if (shards.Count == 1 && File.Exists(indexPath)) File.Delete(indexPath);
        }
        return written;
    }

    private static long StorageBytes(List<KeyValuePair<string, Tensor>> shard)
        => shard.Select(e => e.Value.Storage).Distinct().Sum(s => s.NumBytes);

    /// <summary>Files of an earlier save under the same name: <c>{stem}-NNNNN-of-NNNNN{ext}</c>.</summary>
    private static IEnumerable<string> StaleShards(string folder, string stem, string ext)
    {
        var pattern = new Regex("^" + Regex.Escape(stem) + @"-\d{5}-of-\d{5}" + Regex.Escape(ext) + "$",
            RegexOptions.CultureInvariant);
        return Directory.EnumerateFiles(folder, stem + "-*" + ext).Where(f => pattern.IsMatch(Path.GetFileName(f)));
    }
}
