using TorchSerial.Errors;
using Microsoft.Win32.SafeHandles;

namespace TorchSerial.Buffers;

/// <summary>
/// The size and modification time of an open checkpoint file when a lazy load opened it. Lazy reads
/// compare the open file against it (by handle, so a rename or replace of the path does not matter: the
/// handle still reads the original file) and refuse to return data from a file changed in place.
/// </summary>
internal sealed class FileSnapshot
{
    private readonly SafeFileHandle _handle;
    private readonly long _length;
    private readonly DateTime _written;

    public FileSnapshot(SafeFileHandle handle)
    {
        _handle = handle;
        _length = RandomAccess.GetLength(handle);
        _written = File.GetLastWriteTimeUtc(handle);
    }

    public void EnsureUnchanged(string what)
    {
        if (_handle.IsClosed)
            throw new TorchSerialException(ErrorIds.CheckpointClosed, ErrorKind.InvalidArgument,
                $"The data of {what} cannot be read: its lazily loaded checkpoint was closed. Load it again.");
        long length = RandomAccess.GetLength(_handle);
        var written = File.GetLastWriteTimeUtc(_handle);
        if (length != _length || written != _written)
            throw new TorchSerialException(ErrorIds.CheckpointChanged, ErrorKind.InvalidData,
                $"The checkpoint file changed after it was opened lazily (size {_length} → {length} bytes, written " +
                    $"{_written:O} → {written:O}), " +
                $"so the data of {what} can no longer be trusted. Load the file again.");
    }
}
