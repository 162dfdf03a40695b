namespace TorchSerial.Buffers;

/// <summary>A layer that turns big-endian elements of <paramref name="unit"/> bytes into little-endian ones as they are
/// read.</summary>
internal sealed class SwappedBuffer(StorageBuffer source, int unit) : StorageBuffer
{
    public override long Length => source.Length;
    public override bool IsResident => source.IsResident;

    public override void Read(long offset, Span<byte> destination)
    {
        EnsureWhole(offset, destination.Length);
        source.Read(offset, destination);
        ByteOrder.SwapInPlace(destination, unit);
    }

    public override bool IsRandomAccess => source.IsRandomAccess;

    public override bool ReadsInChunks => source.ReadsInChunks;

    public override void ReadChunk(long offset, Span<byte> destination, ChunkChecks checks)
    {
        EnsureWhole(offset, destination.Length);
        source.ReadChunk(offset, destination, checks);
        ByteOrder.SwapInPlace(destination, unit);
    }

    private void EnsureWhole(long offset, int length)
    {
        if (offset % unit != 0 || length % unit != 0)
            throw new ArgumentException($"Byte-swapped reads must cover whole {unit}-byte elements.");
    }

    public override ChunkReader OpenReader() => new Swapping(source.OpenReader(), unit);

    /// <summary>The source's fill (and its CRC check), then the swap, chunk by chunk on every core.</summary>
    public override uint? Fill(HostBuffer target, Action<int>? progress, CancellationToken cancellationToken)
    {
        source.Fill(target, progress, cancellationToken);
        ParallelChunks.For(Length, ParallelChunk, (_, at, n) =>
            ByteOrder.SwapInPlace(target.Window(at, n), unit), cancellationToken);
        return null; // the CRC describes the bytes as stored, not as swapped
    }

    private sealed class Swapping(ChunkReader inner, int unit) : ChunkReader
    {
        public override int Read(Span<byte> destination)
        {
            // Whole elements only: every chunk a caller asks for is a multiple of the element size but the last.
            var whole = destination[..(destination.Length - destination.Length % unit)];
            if (whole.Length == 0)
                throw new ArgumentException($"Byte-swapped reads must cover whole {unit}-byte elements.");
            inner.ReadExactly(whole);
            ByteOrder.SwapInPlace(whole, unit);
            return whole.Length;
        }

        public override void Finish() => inner.Finish();
        public override void Dispose() => inner.Dispose();
    }
}
