using System.Buffers;
using System.IO.Hashing;

namespace TorchSerial.Buffers;

/// <summary>
/// Streams a buffer's bytes in order while reading them on several cores: a few chunks at a time are read in
/// parallel (copied from the page cache, CRC-checked, cast or swapped on the way, and hashed when the caller needs
/// their CRC), then handed to the sink in order. Read front to back on one core, a streamed cast-and-save of GPT-2
/// small spent 160-170 ms of its 250-300 ms there while the writing thread waited; memory stays at a few chunks.
/// </summary>
internal static class ParallelCopy
{
    /// <summary>Below this a buffer streams front to back: a parallel step costs more than it spreads.</summary>
    private const long MinLength = 2 << 20;

    /// <summary>Chunks in flight at once: more cores than this only contend for memory bandwidth.</summary>
    private const int MaxWidth = 4;

    /// <summary>Chunk offsets are multiples of this, so every chunk holds whole elements of any dtype.</summary>
    private const int Alignment = 64;

    public static bool Applies(StorageBuffer buffer) => buffer.Length >= MinLength && Environment.ProcessorCount > 1
        && buffer.ReadsInChunks;

    /// <summary>Streams every byte of <paramref name="buffer"/> to <paramref name="sink"/>.</summary>
    /// <returns>The CRC-32 of the bytes: computed when <paramref name="hash"/>, else the one a layer verified when the
    /// buffer's stream yields it (<see cref="StorageBuffer.StreamVerifiesCrc"/>), else null.</returns>
    public static uint? Run(StorageBuffer buffer, SpanAction sink, bool hash, CancellationToken cancellationToken)
    {
        long length = buffer.Length;
        int count = (int)Math.Max(2, (length + StorageBuffer.ParallelChunk - 1) / StorageBuffer.ParallelChunk);
        int chunk = (int)(((length + count - 1) / count + Alignment - 1) / Alignment * Alignment);
        count = (int)((length + chunk - 1) / chunk);
        int width = Math.Min(Math.Min(Environment.ProcessorCount, MaxWidth), count);
        var blocks = new byte[width][];
        var crcs = hash ? new uint[count] : null;
        var checks = new ChunkChecks();
        try
        {
            for (int i = 0; i < width; i++) blocks[i] = ArrayPool<byte>.Shared.Rent(chunk);
            for (int first = 0; first < count; first += width)
            {
                int n = Math.Min(width, count - first);
                ParallelChunks.Each(n, j =>
                {
                    var window = Window(blocks[j], first + j, chunk, length);
                    buffer.ReadChunk((long)(first + j) * chunk, window, checks);
                    if (crcs is not null) crcs[first + j] = Crc32.HashToUInt32(window);
                }, cancellationToken);
                for (int j = 0; j < n; j++) sink(Window(blocks[j], first + j, chunk, length));
            }
        }
        finally
        {
            foreach (var block in blocks)
                if (block is not null) ArrayPool<byte>.Shared.Return(block);
        }
        uint? verified = checks.Complete();
        if (crcs is null) return buffer.StreamVerifiesCrc ? verified : null;
        uint crc = crcs[0];
        for (int i = 1; i < count; i++)
            crc = Crc32Combine.Combine(crc, crcs[i], Math.Min(chunk, length - (long)i * chunk));
        return crc;
    }

    private static Span<byte> Window(byte[] block, int index, int chunk, long length)
        => block.AsSpan(0, (int)Math.Min(chunk, length - (long)index * chunk));
}
