using TorchSerial.Errors;
namespace TorchSerial.Writing;

/// <summary>
/// Writes a file through a temporary sibling and a final rename, so readers never see a half-written
/// file and a failure (or cancellation) leaves the previous file exactly as it was.
/// </summary>
internal static class AtomicFile
{
    public static void Write(string path, bool overwrite, Action<Stream> write)
    {
        if (!overwrite && File.Exists(path))
            throw new TorchSerialException(ErrorIds.WriteFailed, ErrorKind.ResourceUnavailable,
                $"The file '{path}' already exists.");
        string temp = Path.Combine(Path.GetDirectoryName(path)!, "." + Path.GetFileName(path) + "."
            + Guid.NewGuid().ToString("N")[..8] + ".tmp");
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
            File.Move(temp, path, overwrite);
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

    private static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
