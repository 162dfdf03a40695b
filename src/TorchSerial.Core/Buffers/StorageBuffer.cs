using System.IO.Hashing;

namespace TorchSerial.Buffers;

/// <summary>
/// Where the bytes of one storage live or come from: a managed array, native memory, a range of a file,
/// a deflated record, a device. A buffer's length never changes, and neither do its bytes once they exist,
/// which is what lets a known CRC-32 be reused and several tensors read one buffer at once.
/// </summary>
internal abstract class StorageBuffer
{
    /// <summary>Bytes moved per step: progress is reported and cancellation checked between steps.</summary>
    public const int ChunkSize = 16 << 20;

    public abstract long Length { get; }

    /// <summary>Where the bytes are (or, for a lazy buffer not read yet, will be): 'cpu' unless a device holds
    /// them.</summary>
    public virtual string Device => "cpu";

    /// <summary>True when the bytes are held in memory (host or device) rather than read from their file on each
    /// use.</summary>
    public virtual bool IsResident => true;

    /// <summary>The CRC-32 of the bytes when it is known without hashing them (verified on load, or computed by a
    /// save).</summary>
    public virtual uint? KnownCrc { get; set; }

    /// <summary>Reads <paramref name="destination"/>.Length bytes starting at <paramref name="offset"/>.</summary>
    public abstract void Read(long offset, Span<byte> destination);

    /// <summary>A reader that yields every byte once, in order; layers such as CRC checks work on it.</summary>
    public virtual ChunkReader OpenReader() => new RandomAccessReader(this);

    /// <summary>Direct access to host memory for a range that fits in a span; false when the bytes are not on the
    /// host.</summary>
    public virtual bool TryGetSpan(long offset, int length, out ReadOnlySpan<byte> span)
    {
        span = default;
        return false;
    }

    /// <summary>
    /// Streams every byte to <paramref name="sink"/> in order: straight from host memory where the bytes are held
    /// there, read on several cores where <see cref="ReadsInChunks"/> (see <see cref="ParallelCopy"/>), else through
    /// <paramref name="scratch"/> from wherever they are (a file, a device). With <paramref name="hash"/> the CRC-32
    /// of the bytes is computed on the way where it is neither known nor verified.
    /// </summary>
    /// <returns>The CRC-32 of what was streamed when it is known, was verified on the way or was computed; otherwise
    /// null.</returns>
    public uint? CopyTo(SpanAction sink, byte[] scratch, CancellationToken cancellationToken, bool hash = false)
    {
        hash &= KnownCrc is null && !StreamVerifiesCrc;
        if (!IsResident && ParallelCopy.Applies(this))
        {
            uint? streamed = ParallelCopy.Run(this, sink, hash, cancellationToken);
            return KnownCrc ?? streamed;
        }
        var crc = hash ? new Crc32() : null;
        SpanAction to = crc is null ? sink : chunk =>
        {
            crc.Append(chunk);
            sink(chunk);
        };
        if (IsResident && Length > 0 && TryGetSpan(0, (int)Math.Min(Length, scratch.Length), out _))
        {
            for (long at = 0; at < Length; at += scratch.Length)
            {
                cancellationToken.ThrowIfCancellationRequested();
                TryGetSpan(at, (int)Math.Min(scratch.Length, Length - at), out var window);
                to(window);
            }
            GC.KeepAlive(this); // windows of native memory are valid only while their buffer lives
            return KnownCrc ?? crc?.GetCurrentHashAsUInt32();
        }
        using var reader = OpenReader();
        for (long at = 0; at < Length; at += scratch.Length)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int n = (int)Math.Min(scratch.Length, Length - at);
            reader.ReadExactly(scratch.AsSpan(0, n));
            to(scratch.AsSpan(0, n));
        }
        reader.Finish();
        return KnownCrc ?? reader.VerifiedCrc ?? crc?.GetCurrentHashAsUInt32();
    }

    /// <summary>True when streaming this buffer verifies, and so yields, its CRC-32 (no need to hash it
    /// again).</summary>
    public virtual bool StreamVerifiesCrc => false;

    /// <summary>Chunks a large fill is split into, one core each.</summary>
    public const int ParallelChunk = 8 << 20;

    /// <summary>True when a read at any offset is cheap (memory, a file range), so a fill may split the bytes across
    /// cores.</summary>
    public virtual bool IsRandomAccess => true;

    /// <summary>
    /// True when <see cref="ReadChunk"/> may read disjoint chunks on several threads at once and, together with
    /// <see cref="ChunkChecks"/>, checks what a front-to-back reader checks: every layer down to the bytes says so.
    /// </summary>
    public virtual bool ReadsInChunks => false;

    /// <summary>Reads one chunk of a read split into chunks (any thread, any order); a layer that checks a whole run
    /// notes its part in <paramref name="checks"/>.</summary>
    public virtual void ReadChunk(long offset, Span<byte> destination, ChunkChecks checks) => Read(offset, destination);

    /// <summary>
    /// Reads every byte into <paramref name="target"/> (of the same length), reporting bytes as they arrive
    /// (from any thread). Large random-access buffers are read on every core, CRC-checked by the chunk where they
    /// read in chunks.
    /// </summary>
    /// <returns>The CRC-32 of the bytes when a layer verified it on the way; otherwise null.</returns>
    public virtual uint? Fill(HostBuffer target, Action<int>? progress, CancellationToken cancellationToken)
    {
        if (!IsRandomAccess || Length <= ParallelChunk) return FillInOrder(target, progress, cancellationToken);
        var checks = ReadsInChunks ? new ChunkChecks() : null;
        ParallelChunks.For(Length, ParallelChunk, (_, at, n) =>
        {
            if (checks is null) Read(at, target.Window(at, n));
            else ReadChunk(at, target.Window(at, n), checks);
            progress?.Invoke(n);
        }, cancellationToken);
        uint? verified = checks?.Complete();
        return StreamVerifiesCrc ? verified : null;
    }

    /// <summary>The front-to-back fill, through <see cref="OpenReader"/> and so through every layer's reader.</summary>
    protected uint? FillInOrder(HostBuffer target, Action<int>? progress, CancellationToken cancellationToken)
    {
        using var reader = OpenReader();
        for (long at = 0; at < Length; at += ChunkSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int n = (int)Math.Min(ChunkSize, Length - at);
            reader.ReadExactly(target.Window(at, n));
            progress?.Invoke(n);
        }
        reader.Finish();
        return reader.VerifiedCrc;
    }

    private sealed class RandomAccessReader(StorageBuffer buffer) : ChunkReader
    {
        private long _at;

        public override int Read(Span<byte> destination)
        {
            int n = (int)Math.Min(destination.Length, buffer.Length - _at);
            if (n <= 0) return 0;
            buffer.Read(_at, destination[..n]);
            _at += n;
            return n;
        }
    }
}
