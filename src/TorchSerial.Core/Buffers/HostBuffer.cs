namespace TorchSerial.Buffers;

/// <summary>Bytes held in host memory, managed or native; a loader fills it through windows of at most a span each.</summary>
internal abstract class HostBuffer : StorageBuffer
{
    /// <summary>A writable window, used only while the buffer is being filled (its bytes never change after).</summary>
    public abstract Span<byte> Window(long offset, int length);

    public override void Read(long offset, Span<byte> destination) => Window(offset, destination.Length).CopyTo(destination);

    public override bool TryGetSpan(long offset, int length, out ReadOnlySpan<byte> span)
    {
        span = Window(offset, length);
        return true;
    }

    /// <summary>A managed array when the bytes fit one (and <paramref name="managedLimit"/>), native memory beyond.</summary>
    public static HostBuffer Allocate(long length, long managedLimit = long.MaxValue)
        => length <= Math.Min(managedLimit, Array.MaxLength)
            ? new ManagedBuffer(GC.AllocateUninitializedArray<byte>((int)length))
            : new NativeBuffer(length);
}
