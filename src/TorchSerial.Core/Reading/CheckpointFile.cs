using TorchSerial.Errors;
namespace TorchSerial.Reading;

/// <summary>Opens checkpoint files for reading, turning the usual I/O failures into stable ErrorIds.</summary>
internal static class CheckpointFile
{
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
