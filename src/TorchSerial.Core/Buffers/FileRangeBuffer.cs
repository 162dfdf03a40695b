using TorchSerial.Errors;
using Microsoft.Win32.SafeHandles;

namespace TorchSerial.Buffers;

/// <summary>
/// A byte range of a file or seekable stream (a stored zip record, a legacy-stream storage, a tar member),
/// read on each use. Files are read with positional reads on the handle, so concurrent readers need no lock;
/// a lazy load also checks that the file was not changed underneath.
/// </summary>
internal sealed class FileRangeBuffer : StorageBuffer
{
    private readonly Stream _stream;
    private readonly SafeFileHandle? _handle;
    private readonly IRangeStart? _locate;
    private long _offset = -1;
    private readonly long _length;
    private readonly string _what;
    private readonly FileSnapshot? _snapshot;

    public FileRangeBuffer(Stream stream, long offset, long length, string what, FileSnapshot? snapshot = null,
        SafeFileHandle? handle = null)
        : this(stream, null, length, what, snapshot, handle) => _offset = offset;

    /// <summary>A range whose start is found on first use (a zip record's local header is read only when its bytes
    /// are).</summary>
    // The caller passes the stream's handle when it holds it already: a FileStream's getter flushes and marks the
    // handle exposed each time (2.7% of a lazy open of 360 tensors, one call per storage).
    public FileRangeBuffer(Stream stream, IRangeStart? locate, long length, string what, FileSnapshot? snapshot = null,
        SafeFileHandle? handle = null)
    {
        _stream = stream;
        _handle = handle ?? (stream as FileStream)?.SafeFileHandle;
        _locate = locate;
        _length = length;
        _what = what;
        _snapshot = snapshot;
    }

    private long Start => _offset >= 0 ? _offset : _offset = _locate!.Locate();

    /// <summary>Where the stream's position 0 is in the handle's file (an archive inside another file); positional
    /// reads on the handle add it.</summary>
    public long HandleBase { get; init; }

    public override long Length => _length;

    public override bool IsResident => false;

    public override bool ReadsInChunks => true;

    /// <summary>A remote file is read front to back in large blocks, one ahead (see <see cref="PrefetchingReader"/>);
    /// a local one in the caller's chunks.</summary>
    public override ChunkReader OpenReader() => _stream is IPositionalRead remote && _length > 1 << 20
        ? new PrefetchingReader(remote, Start, _length) : base.OpenReader();

    public override void Read(long offset, Span<byte> destination)
    {
        _snapshot?.EnsureUnchanged(_what);
        long start = Start;
        int done = 0;
        try
        {
            while (done < destination.Length)
            {
                int n;
                if (_handle is not null)
                {
                    // Eager loads only: a lazy load's reads must see the file as it is now, for the change checks.
                    long at = HandleBase + start + offset + done;
                    n = _snapshot is null ? ReadWindow.Read(_handle, destination[done..], at)
                        : RandomAccess.Read(_handle, destination[done..], at);
                }
                else if (_stream is IPositionalRead positional)
                {
                    // A remote file: one range request, beside the other threads' (it pins the file's identity).
                    positional.ReadAt(start + offset + done, destination[done..]);
                    n = destination.Length - done;
                }
                else
                {
                    lock (_stream)
                    {
                        _stream.Position = start + offset + done;
                        n = _stream.Read(destination[done..]);
                    }
                }
                if (n == 0)
                    throw Fail.Data(ErrorIds.RecordSizeMismatch,
                        $"The data of {_what} ends after {offset + done} of its {_length} bytes: the file is " +
                            "truncated.", _what);
                done += n;
            }
        }
        catch (ObjectDisposedException ex)
        {
            throw new TorchSerialException(ErrorIds.CheckpointClosed, ErrorKind.InvalidArgument,
                $"The data of {_what} cannot be read: its lazily loaded checkpoint was closed. Load it again.", ex);
        }
    }
}
