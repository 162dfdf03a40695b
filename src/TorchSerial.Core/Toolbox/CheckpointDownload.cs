using System.Security.Cryptography;
using TorchSerial.Buffers.Remote;
using TorchSerial.Errors;

namespace TorchSerial.Toolbox;

/// <summary>What a download did: where the file is, what vouched for its bytes, and whether it resumed.</summary>
public sealed record DownloadResult(string Path, string Address, long Length, string Sha256, string Verified,
    bool Resumed, bool AlreadyPresent);

/// <summary>
/// A verified, resumable, byte-exact download of a remote checkpoint, to a file or into the Hugging Face cache
/// (<see cref="HubCache"/>), so Python's huggingface_hub finds it afterwards. Bytes go to a partial file beside the
/// target (with the identity of the remote file it holds the start of); a later download of the same file, while the
/// server still names it by that identity, goes on from the partial's end. The whole file is then checked against
/// the SHA-256 the server vouches for (the Hub's X-Linked-Etag), or its size where none is sent, before it is moved
/// into place: a mismatch deletes the partial and is DownloadMismatch.
/// </summary>
public static class CheckpointDownload
{
    private const string PartialSuffix = ".incomplete";
    private const int Chunk = 8 << 20;

    /// <summary>Downloads <paramref name="address"/> to <paramref name="destination"/> (a file path).</summary>
    public static DownloadResult ToFile(string address, string destination, RemoteOptions options, bool force,
        Action<long, long>? progress, CancellationToken ct)
    {
        var file = RemoteFile.Open(RemoteAddress.Parse(address), options, ct);
        if (File.Exists(destination) && !force)
        {
            // Only a file the server vouches for by SHA-256 can be known to be the same; a size says too little.
            if (file.Sha256 is not null && new FileInfo(destination).Length == file.Length
                && HashFile(destination, ct) == file.Sha256)
                return new DownloadResult(destination, address, file.Length, file.Sha256, "present", false, true);
            throw new TorchSerialException(ErrorIds.WriteFailed, ErrorKind.ResourceUnavailable,
                $"The file '{destination}' already exists" + (file.Sha256 is null ? "" : $" and differs from " +
                    file.Address.Describe()) + "; add -Force to replace it.");
        }
        return Transfer(file, destination, progress, ct);
    }

    /// <summary>Downloads an hf:// file into the Hub cache: the blob, the snapshot's link to it, and the revision's
    /// ref. A blob already there is checked by size and reused (verified by hash again with <paramref
    /// name="force"/>).</summary>
    public static DownloadResult ToHubCache(string address, string? cacheRoot, RemoteOptions options, bool force,
        Action<long, long>? progress, CancellationToken ct)
    {
        var remote = RemoteAddress.Parse(address);
        if (!remote.IsHub)
            throw new TorchSerialException(ErrorIds.RemoteAddressInvalid, ErrorKind.InvalidArgument,
                $"'{address}' is not an hf:// address; only Hub files go into the Hub cache. Give -Destination.");
        var file = RemoteFile.Open(remote, options, ct);
        var cache = new HubCache(cacheRoot ?? HubCache.DefaultRoot, remote);
        string blobName = file.ContentId ?? throw new TorchSerialException(
            ErrorIds.DownloadRefused, ErrorKind.InvalidData,
            $"The server sends no ETag for {remote.Describe()}, so its blob cannot be named in the Hub cache.");
        string blob = cache.Blob(blobName);
        DownloadResult result;
        if (File.Exists(blob) && new FileInfo(blob).Length == file.Length && !force)
            result = new DownloadResult(blob, address, file.Length, file.Sha256 ?? "", "present", false, true);
        else result = Transfer(file, blob, progress, ct);
        string commit = file.Commit ?? remote.Revision!;
        string snapshot = cache.Link(commit, remote.PathInRepo!, blob);
        if (commit != remote.Revision) cache.WriteRef(remote.Revision!, commit);
        return result with { Path = snapshot };
    }

    private static DownloadResult Transfer(RemoteFile file, string target, Action<long, long>? progress,
        CancellationToken ct)
    {
        string partial = target + PartialSuffix, identity = partial + ".etag";
        string pinned = $"{file.Sha256 ?? file.ETag ?? ""} {file.Length}";
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(target))!);
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long done = 0;
        bool resumed = false;
        try
        {
            // A partial resumes only when it holds the start of this very file (same identity, not longer).
            if (File.Exists(partial) && File.Exists(identity) && File.ReadAllText(identity) == pinned
                && file.ETag is not null && new FileInfo(partial).Length <= file.Length)
            {
                done = HashInto(sha, partial, ct);
                resumed = done > 0;
            }
            else File.WriteAllText(identity, pinned);
            using (var output = new FileStream(partial, resumed ? FileMode.Append : FileMode.Create,
                FileAccess.Write, FileShare.None, 1 << 16))
            {
                var buffer = new byte[Chunk];
                while (done < file.Length)
                {
                    ct.ThrowIfCancellationRequested();
                    int n = (int)Math.Min(Chunk, file.Length - done);
                    file.ReadAt(done, buffer.AsSpan(0, n));
                    output.Write(buffer, 0, n);
                    sha.AppendData(buffer, 0, n);
                    done += n;
                    progress?.Invoke(done, file.Length);
                }
            }
            string hash = Convert.ToHexString(sha.GetHashAndReset()).ToLowerInvariant();
            if (file.Sha256 is not null && hash != file.Sha256.ToLowerInvariant())
            {
                File.Delete(partial);
                File.Delete(identity);
                throw new TorchSerialException(ErrorIds.DownloadMismatch, ErrorKind.InvalidData,
                    $"The bytes downloaded from {file.Address.Describe()} have SHA-256 {hash}, but the server " +
                        $"vouches for {file.Sha256}: the partial download was deleted. Download it again.");
            }
            File.Move(partial, target, overwrite: true);
            File.Delete(identity);
            return new DownloadResult(target, file.Address.Text, file.Length, hash,
                file.Sha256 is null ? "size" : "sha256", resumed, false);
        }
        catch (OperationCanceledException ex)
        {
            throw new TorchSerialException(ErrorIds.Stopped, ErrorKind.OperationStopped,
                $"The download of {file.Address.Describe()} was cancelled after {done} bytes; run it again to resume.",
                ex);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new TorchSerialException(ErrorIds.WriteFailed, ErrorKind.ResourceUnavailable,
                $"Cannot write '{partial}': {ex.Message}", ex);
        }
    }

    private static long HashInto(IncrementalHash sha, string path, CancellationToken ct)
    {
        using var input = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        var buffer = new byte[Chunk];
        long total = 0;
        for (int n; (n = input.Read(buffer)) > 0; total += n)
        {
            ct.ThrowIfCancellationRequested();
            sha.AppendData(buffer, 0, n);
        }
        return total;
    }

    private static string HashFile(string path, CancellationToken ct)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        HashInto(sha, path, ct);
        return Convert.ToHexString(sha.GetHashAndReset()).ToLowerInvariant();
    }
}
