using TorchSerial.Buffers;
using TorchSerial.Errors;

namespace TorchSerial.Reading;

/// <summary>
/// The data files of a checkpoint folder, each opened once on first use and kept open while the checkpoint is (a lazy
/// load reads from them later); disposing closes them all.
/// </summary>
internal sealed class DataFiles(string folder, bool lazy) : IDisposable
{
    private readonly Dictionary<string, (FileStream Stream, FileSnapshot? Snapshot)> _open =
        new(StringComparer.Ordinal);

    public string Folder => folder;

    /// <summary>The names opened so far, in the order they were first used.</summary>
    public IReadOnlyList<string> Names => _open.Keys.ToList();

    /// <summary>The open file named <paramref name="relative"/> in the folder; <paramref name="what"/> names what
    /// needed it when it is missing.</summary>
    public (FileStream Stream, FileSnapshot? Snapshot) Get(string relative, string what)
    {
        if (_open.TryGetValue(relative, out var open)) return open;
        string path = Path.Combine(folder, relative);
        // A relative path is a name the writer made (__0_0.distcp); one that climbs out of the folder is refused.
        if (Path.IsPathRooted(relative) || relative.Split('/', '\\').Contains("..") || !File.Exists(path))
            throw Fail.Data(ErrorIds.DistributedDataMissing,
                $"{what} is stored in '{relative}', but the folder '{folder}' has no such file: the checkpoint is " +
                    "incomplete (a rank's files were not copied?).", relative);
        var stream = CheckpointFile.OpenRead(path);
        open = (stream, lazy ? new FileSnapshot(stream.SafeFileHandle) : null);
        _open[relative] = open;
        return open;
    }

    public void Dispose()
    {
        foreach (var (stream, _) in _open.Values) stream.Dispose();
        _open.Clear();
    }
}
