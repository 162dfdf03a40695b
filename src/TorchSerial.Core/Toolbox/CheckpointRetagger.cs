using TorchSerial.Writing;
using TorchSerial.Containers;
using TorchSerial.Reading;
using TorchSerial.Tensors;
using TorchSerial.Torch;
namespace TorchSerial.Toolbox;

/// <summary>One storage whose saved location tag a rewrite changes.</summary>
public sealed record TagChange(string StorageKey, string From, string To);

/// <summary>
/// Rewrites the location tags inside a checkpoint file (zip or legacy stream) without reading tensor data:
/// the file is opened lazily, each storage gets its new tag, and the storages are streamed through as they are.
/// </summary>
public static class CheckpointRetagger
{
    /// <summary>The tag changes a rewrite would make; nothing is written.</summary>
    public static IReadOnlyList<TagChange> Plan(string path, MapLocation map, LoadOptions? options = null)
    {
        using var checkpoint = CheckpointReader.Open(path, (options ?? new LoadOptions()).ForRetagging());
        return Retag(checkpoint, map).Changes;
    }

    /// <summary>Writes <paramref name="destination"/> (atomically) with the remapped tags and returns the
    /// changes.</summary>
    public static IReadOnlyList<TagChange> Rewrite(string source, string destination, MapLocation map,
        LoadOptions? options = null,
        bool overwrite = true, Action<long, long>? progress = null, CancellationToken cancellationToken = default)
    {
        using var checkpoint = CheckpointReader.Open(source, (options ?? new LoadOptions()).ForRetagging());
        var (changes, tags) = Retag(checkpoint, map);
        var save = new SaveOptions
        {
            // Unchanged tags are kept as saved, not re-derived from the (host) device the storages sit on.
            LocationTag = s => tags.TryGetValue(s, out var tag) ? tag : s.SavedLocation,
            Layout = checkpoint.Format == CheckpointFormat.LegacyStream ? SaveLayout.Legacy : SaveLayout.Zip,
            PickleProtocol = Math.Clamp(checkpoint.PickleProtocol, 2, 5),
            Progress = progress,
        };
        CheckpointWriter.SaveFile(checkpoint.Root, destination, save, overwrite, cancellationToken);
        return changes;
    }

    /// <summary>Each storage's new tag (the map is asked once per storage) and the ones that change.</summary>
    private static (List<TagChange> Changes, Dictionary<Storage, string> Tags) Retag(Checkpoint checkpoint,
        MapLocation map)
    {
        var changes = new List<TagChange>();
        var tags = new Dictionary<Storage, string>();
        foreach (var storage in checkpoint.Storages)
        {
            string tag = map.Retag(storage, storage.SavedLocation);
            tags[storage] = tag;
            if (tag != storage.SavedLocation) changes.Add(new TagChange(storage.Key, storage.SavedLocation, tag));
        }
        return (changes, tags);
    }
}
