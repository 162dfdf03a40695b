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

    /// <summary>Elements one core computes at a time when a range is computed on every core; 0 (the default) for a
    /// buffer whose work is reading, which a fill already spreads over the cores.</summary>
    protected virtual int ParallelBlock => 0;

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
            ReadInBlocks(offset / ItemSize, destination);
            return;
        }
        // An unaligned range is cut from the whole elements around it.
        long start = offset / ItemSize, end = (offset + destination.Length + ItemSize - 1) / ItemSize;
        var whole = new byte[(end - start) * ItemSize];
        ReadInBlocks(start, whole);
        whole.AsSpan((int)(offset - start * ItemSize), destination.Length).CopyTo(destination);
    }

    /// <summary>Computes the range whole, or in blocks on every core, each into its own part of the destination
    /// (pinned, since a span cannot cross into the workers).</summary>
    private unsafe void ReadInBlocks(long first, Span<byte> destination)
    {
        long count = destination.Length / ItemSize;
        int block = ParallelBlock;
        if (block <= 0 || count <= block)
        {
            ReadElements(first, destination);
            return;
        }
        fixed (byte* target = destination)
        {
            byte* at = target;
            int item = ItemSize;
            ParallelChunks.For(count, block, (_, start, n) =>
                ReadElements(first + start, new Span<byte>(at + start * item, n * item)), CancellationToken.None);
        }
    }

    /// <summary>A tensor's own bytes, read from wherever they are now and never kept (a lazy storage is not loaded
    /// by being read through): a computed tensor streamed to a file holds one scratch buffer, not its
    /// sources.</summary>
    protected static StorageBuffer Unkept(StorageBuffer buffer) => buffer is LazyBuffer lazy ? lazy.Unkept : buffer;
}
