using Microsoft.Win32.SafeHandles;
using TorchSerial.Errors;
namespace TorchSerial.Writing;

/// <summary>
/// Writes a file through a temporary sibling and a final rename, so readers never see a half-written
/// file and a failure (or cancellation) leaves the previous file exactly as it was. A process killed mid-write
/// leaves its temporary file behind; the next save to the same target removes it (see <see cref="RemoveStale"/>).
/// </summary>
internal static class AtomicFile
{
    private const string TempSuffix = ".tmp";
    private static readonly TimeSpan StaleAfter = TimeSpan.FromSeconds(2);

    public static void Write(string path, bool overwrite, Action<Stream> write)
    {
        if (!overwrite && File.Exists(path))
            throw new TorchSerialException(ErrorIds.WriteFailed, ErrorKind.ResourceUnavailable,
                $"The file '{path}' already exists.");
        RemoveStale(path);
        string temp = Path.Combine(Path.GetDirectoryName(path)!, "." + Path.GetFileName(path) + "."
            + Guid.NewGuid().ToString("N")[..8] + TempSuffix);
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None,
                bufferSize: 1 << 16))
            {
                // Blocks go to disk on a second thread while the caller produces the next (reads, CRC-checks).
                using (var blocks = new BackgroundWriteStream(stream))
                {
                    write(blocks);
                    blocks.Flush();
                }
                stream.Flush(flushToDisk: false);
            }
            var replaced = HoldReplaced(path);
            File.Move(temp, path, overwrite);
            if (replaced is not null) ThreadPool.UnsafeQueueUserWorkItem(h => h.Dispose(), replaced, false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            TryDelete(temp);
            throw new TorchSerialException(ErrorIds.WriteFailed, ErrorKind.ResourceUnavailable,
                $"Cannot write '{path}': {ex.Message}", ex);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    /// <summary>
    /// Deletes the temporary files that earlier saves to <paramref name="path"/> left behind. A writer holds its
    /// temporary file open exclusively (FileShare.None: a lock on Windows, an flock on Unix) until the rename, and
    /// the system drops that lock when the process dies, so a file that opens exclusively belongs to no live writer.
    /// One that does not open is another save in progress and is left alone, and so is one touched in the last two
    /// seconds: a writer creates its file a moment before it locks it.
    /// </summary>
    internal static int RemoveStale(string path)
    {
        string folder = Path.GetDirectoryName(path)!, prefix = "." + Path.GetFileName(path) + ".";
        int removed = 0;
        IEnumerable<string> candidates;
        try { candidates = Directory.EnumerateFiles(folder, prefix + "????????" + TempSuffix).ToList(); }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { return 0; }
        foreach (var temp in candidates)
        {
            string middle = Path.GetFileName(temp)[prefix.Length..^TempSuffix.Length];
            if (middle.Length != 8 || !middle.All(Uri.IsHexDigit)) continue;
            try
            {
                if (DateTime.UtcNow - File.GetLastWriteTimeUtc(temp) < StaleAfter) continue;
                using (new FileStream(temp, FileMode.Open, FileAccess.ReadWrite, FileShare.None)) { }
                File.Delete(temp);
                removed++;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { }
        }
        return removed;
    }

    /// <summary>
    /// A handle on the file a save replaces, so that the rename only unlinks it and the system frees its pages and
    /// blocks when the handle closes, on a pool thread. Freed inside the rename, a just-written 250 MB file cost
    /// 70-165 ms of a 250-430 ms cast-and-save on this project's VM. Only a file of 1 MiB or more, whose freeing costs
    /// anything: a named pipe or device (length 0) is never opened, since opening a pipe waits for its writer. Not on
    /// Windows, where an open file can block the replace.
    /// </summary>
    private static SafeFileHandle? HoldReplaced(string path)
    {
        if (OperatingSystem.IsWindows()) return null;
        try
        {
            var file = new FileInfo(path);
            if (!file.Exists || file.Length < HeldFromBytes) return null;
            return File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { return null; }
    }

    private const long HeldFromBytes = 1 << 20;

    private static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
