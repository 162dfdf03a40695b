using System.Globalization;
using System.Security.Cryptography;

namespace TorchSerial.Provenance;

/// <summary>
/// The model as it is on disk now, described the way model_signing describes it (model-signing.md §1.6–1.7): every
/// regular file under the model folder (dot-files included), by its POSIX path relative to the folder, minus the
/// ignored paths (the signature's recorded ones, the caller's, <c>.git</c>, <c>.gitattributes</c>, <c>.github</c> and
/// <c>.gitignore</c> at the root, and the signature file itself); a single-file model is the one resource <c>.</c>.
/// Files are hashed with SHA-256 in 1 MiB reads, several at once; the shards method hashes each
/// <c>path:start:end</c> range.
/// </summary>
internal static class ModelManifest
{
    public static readonly string[] GitPaths = { ".git", ".gitattributes", ".github", ".gitignore" };

    /// <summary>name → digest of the local model, or a reason it cannot be described (a symbolic link where the
    /// signature allows none, a file that cannot be read). <paramref name="progress"/> hears (files done, files, bytes
    /// done, bytes) on the calling thread, about four times a second, while the files are hashed on every
    /// core.</summary>
    public static Dictionary<string, string> Describe(string modelPath, SignedStatement statement,
        IEnumerable<string> ignorePaths, CancellationToken ct, Action<int, int, long, long>? progress = null)
    {
        var files = new List<(string Name, string Path)>();
        if (File.Exists(modelPath)) files.Add((".", modelPath));
        else
        {
            string root = Path.GetFullPath(modelPath);
            var ignored = new List<string>(statement.IgnorePaths.Concat(GitPaths).Select(p => p.Trim('/')));
            foreach (var p in ignorePaths)
            {
                string relative = Path.GetRelativePath(root, Path.GetFullPath(p)).Replace('\\', '/');
                if (!relative.StartsWith("..", StringComparison.Ordinal) && !Path.IsPathRooted(relative))
                    ignored.Add(relative);
            }
            var options = new EnumerationOptions
            {
                RecurseSubdirectories = true, AttributesToSkip = 0, IgnoreInaccessible = false,
                ReturnSpecialDirectories = false,
            };
            foreach (var entry in new DirectoryInfo(root).EnumerateFileSystemInfos("*", options))
            {
                string name = Path.GetRelativePath(root, entry.FullName).Replace('\\', '/');
                if (ignored.Any(i => name == i || name.StartsWith(i + "/", StringComparison.Ordinal))) continue;
                if (entry.LinkTarget is not null && !statement.AllowSymlinks)
                    throw new FormatException($"'{name}' is a symbolic link, and the signature allows none");
                if (entry is DirectoryInfo) continue;
                files.Add((name, entry.FullName));
            }
        }
        var digests = new Dictionary<string, string>(StringComparer.Ordinal);
        var parts = statement.Method == "shards" ? files.SelectMany(f => Shards(f, statement.ShardSize)).ToList()
            : files.Select(f => (f.Name, f.Path, Start: 0L, End: -1L)).ToList();
        var results = new string[parts.Count];
        long total = parts.Sum(p => p.End < 0 ? new FileInfo(p.Path).Length : p.End - p.Start);
        var done = new long[2]; // parts, bytes
        var hashing = Task.Run(() => Parallel.For(0, parts.Count, new ParallelOptions { CancellationToken = ct,
            MaxDegreeOfParallelism = Math.Max(2, Environment.ProcessorCount) }, i =>
        {
            results[i] = Hash(parts[i].Path, parts[i].Start, parts[i].End, done);
            Interlocked.Increment(ref done[0]);
        }), ct);
        // The callback runs here, on the caller's thread (a cmdlet may only write progress from its own).
        while (!hashing.Wait(250)) progress?.Invoke((int)Interlocked.Read(ref done[0]), parts.Count,
            Interlocked.Read(ref done[1]), total);
        try { hashing.GetAwaiter().GetResult(); }
        catch (AggregateException ex) when (ex.InnerExceptions.Count == 1) { throw ex.InnerExceptions[0]; }
        progress?.Invoke(parts.Count, parts.Count, total, total);
        for (int i = 0; i < parts.Count; i++) digests[parts[i].Name] = results[i];
        return digests;
    }

    /// <summary>A file's shards as model_signing names them; an empty file has none.</summary>
    private static IEnumerable<(string Name, string Path, long Start, long End)> Shards((string Name, string Path) file,
        long size)
    {
        long length = new FileInfo(file.Path).Length;
        if (size <= 0) throw new FormatException("the shards serialization gives no shard_size");
        for (long start = 0; start < length; start += size)
        {
            long end = Math.Min(length, start + size);
            yield return ($"{file.Name}:{start}:{end}", file.Path, start, end);
        }
    }

    private static string Hash(string path, long start, long end, long[] done)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20,
            FileOptions.SequentialScan);
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[1 << 20];
        stream.Position = start;
        long left = end < 0 ? long.MaxValue : end - start;
        for (int n; left > 0 && (n = stream.Read(buffer, 0, (int)Math.Min(buffer.Length, left))) > 0; left -= n)
        {
            sha.AppendData(buffer, 0, n);
            Interlocked.Add(ref done[1], n);
        }
        return Convert.ToHexString(sha.GetHashAndReset()).ToLower(CultureInfo.InvariantCulture);
    }

    /// <summary>What differs between the signed resources and the local ones: missing, extra and changed files, in
    /// name order; empty when they are the same.</summary>
    public static List<string> Differences(IReadOnlyList<SignedResource> signed, Dictionary<string, string> local)
    {
        var problems = new List<string>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var r in signed.OrderBy(r => r.Name, StringComparer.Ordinal))
        {
            names.Add(r.Name);
            if (!local.TryGetValue(r.Name, out var digest)) problems.Add($"'{r.Name}' is signed but missing");
            else if (digest != r.Digest) problems.Add($"'{r.Name}' has changed (SHA-256 {digest}, signed {r.Digest})");
        }
        foreach (var name in local.Keys.Where(n => !names.Contains(n)).OrderBy(n => n, StringComparer.Ordinal))
            problems.Add($"'{name}' is not signed");
        return problems;
    }
}
