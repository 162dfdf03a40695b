using TorchSerial.Errors;
using TorchSerial.Buffers;

namespace TorchSerial.Tensors;

/// <summary>
/// A buffer whose bytes are computed a range of whole elements at a time (a tensor put together from pieces, an
/// average of tensors): this base turns any byte range into whole elements, so a reader may ask for any offset.
/// </summary>
internal abstract class ElementBuffer(int itemSize) : StorageBuffer
{
    protected int ItemSize { get; } = itemSize;

    public override bool IsResident => false;

    /// <summary>Writes elements <paramref name="first"/>.. into <paramref name="destination"/> (whole
    /// elements).</summary>
    protected abstract void ReadElements(long first, Span<byte> destination);

    public override void Read(long offset, Span<byte> destination)
    {
        if (offset < 0 || destination.Length > Length - offset)
            throw new TorchSerialException(ErrorIds.InvalidTensorData, ErrorKind.InvalidArgument,
                $"Bytes {offset}..{offset + destination.Length} are outside the {Length}-byte computed tensor.");
        if (destination.Length == 0) return;
        if (offset % ItemSize == 0 && destination.Length % ItemSize == 0)
        {
            ReadElements(offset / ItemSize, destination);
            return;
        }
        // An unaligned range is cut from the whole elements around it.
        long start = offset / ItemSize, end = (offset + destination.Length + ItemSize - 1) / ItemSize;
        var whole = new byte[(end - start) * ItemSize];
        ReadElements(start, whole);
        whole.AsSpan((int)(offset - start * ItemSize), destination.Length).CopyTo(destination);
    }

    /// <summary>A tensor's own bytes, read from wherever they are now and never kept (a lazy storage is not loaded
    /// by being read through): a computed tensor streamed to a file holds one scratch buffer, not its
    /// sources.</summary>
    protected static StorageBuffer Unkept(StorageBuffer buffer) => buffer is LazyBuffer lazy ? lazy.Unkept : buffer;
}
