namespace TorchSerial.Buffers;

/// <summary>Bytes held in host memory, managed or native; a loader fills it through windows of at most a span
/// each.</summary>
internal abstract class HostBuffer : StorageBuffer
{
    /// <summary>A writable window, used only while the buffer is being filled (its bytes never change after).</summary>
    public abstract Span<byte> Window(long offset, int length);

    public override void Read(long offset, Span<byte> destination) =>
        Window(offset, destination.Length).CopyTo(destination);

    public override bool ReadsInChunks => true;

    public override bool TryGetSpan(long offset, int length, out ReadOnlySpan<byte> span)
    {
        span = Window(offset, length);
        return true;
    }

    /// <summary>
    /// Storages up to this size are managed arrays; larger ones go to native memory. Measured on the bench's
    /// 21 MB and 47 MB rows, storages in large-object-heap arrays (85 KB and up) loaded 1.5-2x slower than in
    /// native memory: each is charged to the LOH budget, and every few megabytes a background gen2 collection runs.
    /// </summary>
    public const long DefaultManagedLimit = 64 << 10;

    /// <summary>A managed array when the bytes fit one (and <paramref name="managedLimit"/>), native memory
    /// beyond.</summary>
    public static HostBuffer Allocate(long length, long managedLimit = DefaultManagedLimit)
        => length <= Math.Min(managedLimit, Array.MaxLength)
            ? new ManagedBuffer(GC.AllocateUninitializedArray<byte>((int)length))
            : new NativeBuffer(length);
}
