using TorchSerial.Buffers.Remote;
using TorchSerial.Errors;
namespace TorchSerial.Reading;

/// <summary>Opens checkpoint files for reading, turning the usual I/O failures into stable ErrorIds.</summary>
internal static class CheckpointFile
{
    /// <summary>
    /// A local file, or a remote one (http(s):// or hf://) read by ranges: both are the seekable stream the container
    /// readers take, so a remote checkpoint goes through the very reader a local one does.
    /// </summary>
    public static Stream OpenRead(string path, LoadOptions options, CancellationToken ct)
        => RemoteAddress.IsRemote(path)
            ? new RemoteStream(RemoteFile.Open(RemoteAddress.Parse(path), options.Remote, ct))
            : OpenRead(path);

    public static FileStream OpenRead(string path)
    {
        try
        {
            // FileShare.Delete lets Save-Tensor replace the file by rename while a lazy load still holds it open.
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete,
                bufferSize: 1 << 16, FileOptions.RandomAccess);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            bool missing = ex is FileNotFoundException or DirectoryNotFoundException;
            throw new TorchSerialException(missing ? ErrorIds.FileNotFound : ErrorIds.FileOpenFailed,
                missing ? ErrorKind.ObjectNotFound : ErrorKind.ResourceUnavailable, $"Cannot open '{path}': {ex.Message}", ex);
        }
    }
}
