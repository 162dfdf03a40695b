using System.Text.Json;
using TorchSerial.Buffers;
using TorchSerial.Containers;
using TorchSerial.Errors;
using TorchSerial.Python;
using TorchSerial.Tensors;

namespace TorchSerial.Reading;

/// <summary>
/// Opens a DCP checkpoint written through the Hugging Face safetensors storage (torch 2.8+, distributed-checkpoints.md
/// §1.6): no <c>.metadata</c> pickle, but safetensors files whose <c>__metadata__</c> holds <c>DCP_SHARDING_INFO</c>,
/// each tensor's <c>saved_offsets</c> in the whole tensor. As torch's reader does, a tensor's shape is the largest
/// offset plus size in each dimension over its chunks, and a chunk without an entry starts at zero. Tensors come in the
/// order the files (sorted by name) first hold them.
/// </summary>
internal static class DcpSafeTensorsReader
{
    public const string ShardingInfo = "DCP_SHARDING_INFO";

    /// <summary>The safetensors files of a folder (or of its <c>sharded</c> subfolder) that carry DCP's sharding
    /// information; empty when there are none.</summary>
    public static List<string> Files(string folder)
    {
        foreach (var dir in new[] { folder, Path.Combine(folder, "sharded") })
        {
            if (!Directory.Exists(dir)) continue;
            var files = Directory.EnumerateFiles(dir, "*.safetensors").Order(StringComparer.Ordinal).ToList();
            if (files.Count > 0 && HasShardingInfo(files[0])) return files;
        }
        return new List<string>();
    }

    private static bool HasShardingInfo(string file)
    {
        try
        {
            using var c = CheckpointReader.Open(file);
            return c.Metadata?.Contains(ShardingInfo) == true;
        }
        catch (TorchSerialException) { return false; } // not a safetensors file: not this kind of folder
    }

    public static Checkpoint Open(string folder, LoadOptions options, bool eager, CancellationToken ct)
    {
        var files = Files(folder);
        var open = new List<Checkpoint>();
        try
        {
            var order = new List<string>();
            var chunks = new Dictionary<string, List<TensorPiece>>(StringComparer.Ordinal);
            foreach (var file in files)
            {
                ct.ThrowIfCancellationRequested();
                var shard = CheckpointReader.Open(file, options);
                open.Add(shard);
                var offsets = Offsets(shard, file);
                foreach (var t in shard.Tensors)
                {
                    if (!chunks.TryGetValue(t.Name, out var list))
                    {
                        chunks[t.Name] = list = new List<TensorPiece>();
                        order.Add(t.Name);
                    }
                    var at = offsets.TryGetValue(t.Name, out var o) ? o : new long[t.Rank];
                    if (at.Length != t.Rank)
                        throw Invalid(file, $"the saved_offsets of '{t.Name}' have {at.Length} dimensions; the " +
                            $"tensor has {t.Rank}");
                    list.Add(new TensorPiece(at, t.Shape.ToArray(), t));
                }
            }
            var root = new PyDict();
            var tensors = new List<Tensor>(order.Count);
            var assembled = new AssembledTensors(options, order.Count);
            foreach (var name in order)
            {
                var pieces = chunks[name];
                var dtype = pieces[0].Source.DTypeInfo;
                var shape = new long[pieces[0].Sizes.Length];
                foreach (var p in pieces)
                    for (int d = 0; d < shape.Length && d < p.Sizes.Length; d++)
                        shape[d] = Math.Max(shape[d], checked(p.Offsets[d] + p.Sizes[d]));
                var tensor = assembled.Make(name, dtype, shape, shape, pieces, $"Tensor '{name}' of '{folder}'");
                tensor.Name = name;
                root.SetItem(name, tensor);
                tensors.Add(tensor);
            }
            var storages = tensors.Select(t => t.Storage).ToList();
            var graph = new LoadedGraph(CheckpointFormat.DistributedCheckpoint, root, storages,
                files.Select(f => Path.GetRelativePath(folder, f)).ToList()) { PickleProtocol = 0 };
            return CheckpointReader.Finish(folder, graph, tensors, new CheckpointOwners(open), eager, options, ct);
        }
        catch
        {
            foreach (var c in open) c.Dispose();
            throw;
        }
    }

    /// <summary>Each tensor's <c>saved_offsets</c> from the file's <c>DCP_SHARDING_INFO</c> (a JSON string).</summary>
    private static Dictionary<string, long[]> Offsets(Checkpoint shard, string file)
    {
        var result = new Dictionary<string, long[]>(StringComparer.Ordinal);
        if (shard.Metadata?.Contains(ShardingInfo) != true) return result;
        var text = shard.Metadata[ShardingInfo] as string ?? "";
        try
        {
            using var doc = JsonDocument.Parse(text, new JsonDocumentOptions { MaxDepth = 8 });
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw Invalid(file, "it is not a JSON object");
            foreach (var entry in doc.RootElement.EnumerateObject())
            {
                if (entry.Value.ValueKind != JsonValueKind.Object
                    || !entry.Value.TryGetProperty("saved_offsets", out var offsets)
                    || offsets.ValueKind != JsonValueKind.Array)
                    throw Invalid(file, $"the entry of '{entry.Name}' has no saved_offsets list");
                result[entry.Name] = offsets.EnumerateArray().Select(o => o.TryGetInt64(out long v) && v >= 0 ? v
                    : throw Invalid(file, $"the saved_offsets of '{entry.Name}' are not sizes")).ToArray();
            }
        }
        catch (JsonException ex)
        {
            throw new TorchSerialException(ErrorIds.DistributedMetadataInvalid, ErrorKind.InvalidData,
                $"The {ShardingInfo} of '{file}' is not JSON: {ex.Message}", ex) { Record = Path.GetFileName(file) };
        }
        return result;
    }

    private static TorchSerialException Invalid(string file, string problem)
        => Fail.Data(ErrorIds.DistributedMetadataInvalid,
            $"The {ShardingInfo} of '{file}' is not what DCP's safetensors storage writes: {problem}.",
            Path.GetFileName(file));
}
