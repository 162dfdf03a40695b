using TorchSerial.Buffers.Remote;

namespace TorchSerial.Toolbox;

/// <summary>
/// The Hugging Face cache's layout, as huggingface_hub reads it (remote-checkpoints.md §1.8): under
/// <c>HF_HUB_CACHE</c> (default <c>$HF_HOME/hub</c>), one folder per repo, <c>models--org--name</c>
/// (<c>datasets--</c>, <c>spaces--</c>), holding <c>blobs/&lt;etag&gt;</c>, <c>refs/&lt;revision&gt;</c> (the commit a
/// branch resolved to) and <c>snapshots/&lt;commit&gt;/&lt;path&gt;</c>, a relative link to the blob.
/// </summary>
public sealed class HubCache(string root, RemoteAddress address)
{
    /// <summary><c>HF_HUB_CACHE</c> (or the older <c>HUGGINGFACE_HUB_CACHE</c>), else <c>$HF_HOME/hub</c>.</summary>
    public static string DefaultRoot
        => Environment.GetEnvironmentVariable("HF_HUB_CACHE") is { Length: > 0 } cache ? cache
            : Environment.GetEnvironmentVariable("HUGGINGFACE_HUB_CACHE") is { Length: > 0 } old ? old
            : Path.Combine(HubToken.HubHome, "hub");

    private readonly string _repo = Path.Combine(root, RepoFolder(address));

    public static string RepoFolder(RemoteAddress address)
    {
        string type = address.RepoTypePrefix is { Length: > 0 } p ? p.TrimEnd('/') : "models";
        return $"{type}--{address.Repo!.Replace("/", "--", StringComparison.Ordinal)}";
    }

    public string Blob(string etag) => Path.Combine(_repo, "blobs", etag);

    /// <summary>Links <c>snapshots/&lt;commit&gt;/&lt;path&gt;</c> to the blob (a relative symbolic link, as
    /// huggingface_hub makes; a copy where links cannot be made) and returns the snapshot path.</summary>
    public string Link(string commit, string pathInRepo, string blob)
    {
        string snapshot = Path.Combine(_repo, "snapshots", commit,
            pathInRepo.Replace('/', Path.DirectorySeparatorChar));
        Directory.CreateDirectory(Path.GetDirectoryName(snapshot)!);
        string relative = Path.GetRelativePath(Path.GetDirectoryName(snapshot)!, blob);
        var existing = new FileInfo(snapshot);
        if (existing.LinkTarget == relative) return snapshot;
        if (existing.Exists || existing.LinkTarget is not null) existing.Delete();
        try { File.CreateSymbolicLink(snapshot, relative); }
        catch (IOException) { File.Copy(blob, snapshot, overwrite: true); }
        catch (UnauthorizedAccessException) { File.Copy(blob, snapshot, overwrite: true); }
        return snapshot;
    }

    /// <summary>Writes <c>refs/&lt;revision&gt;</c> = commit, through a temporary file and a rename.</summary>
    public void WriteRef(string revision, string commit)
    {
        string path = Path.Combine(_repo, "refs", revision.Replace('/', Path.DirectorySeparatorChar));
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        string temp = path + "." + Guid.NewGuid().ToString("N")[..8] + ".tmp";
        File.WriteAllText(temp, commit);
        File.Move(temp, path, overwrite: true);
    }
}
