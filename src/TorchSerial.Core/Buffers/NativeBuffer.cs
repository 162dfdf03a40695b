using TorchSerial.Errors;
using System.Runtime.InteropServices;

namespace TorchSerial.Buffers;

/// <summary>
/// Bytes in native memory, of any length: a storage larger than one .NET array (over ~2 GiB) lives here.
/// The memory is freed by the finalizer once nothing holds the buffer, and the GC is told of its size so it
/// collects with that pressure in mind.
/// </summary>
internal sealed unsafe class NativeBuffer : HostBuffer
{
    private readonly byte* _data;
    private readonly long _length;

    public NativeBuffer(long length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        try { _data = NativeMemoryPool.Rent(length); }
        catch (OutOfMemoryException ex)
        {
            throw new TorchSerialException(ErrorIds.TensorTooLarge, ErrorKind.ResourceUnavailable,
                $"Cannot allocate {length} bytes for a storage: the machine does not have that much free memory.", ex);
        }
        _length = length;
        if (length > 0) GC.AddMemoryPressure(length);
    }

    ~NativeBuffer()
    {
        NativeMemoryPool.Return(_data, _length);
        if (_length > 0) GC.RemoveMemoryPressure(_length);
    }

    public override long Length => _length;

    // A window points into memory the finalizer frees: whoever uses one keeps this buffer alive until done
    // (GC.KeepAlive), since a caller's own reference may be dead to the JIT before its last read of the span.
    public override void Read(long offset, Span<byte> destination)
    {
        Window(offset, destination.Length).CopyTo(destination);
        GC.KeepAlive(this);
    }

    public override Span<byte> Window(long offset, int length)
    {
        if (offset < 0 || length < 0 || offset > _length - length)
            throw new ArgumentOutOfRangeException(nameof(offset), $"Bytes {offset}..{offset + length} are outside a buffer of {_length}.");
        return new Span<byte>(_data + offset, length);
    }
}
