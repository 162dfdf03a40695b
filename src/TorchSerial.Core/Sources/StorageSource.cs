namespace TorchSerial.Sources;

/// <summary>
/// Where a storage's bytes come from. Storages hold a source and read it when their data is first
/// needed, so an eager load, a lazy load and a streaming save differ only in when and how this is called.
/// </summary>
public abstract class StorageSource
{
    /// <summary>Bytes moved per step: progress is reported and cancellation checked between steps.</summary>
    public const int ChunkSize = 16 << 20;

    /// <summary>Number of bytes the source yields.</summary>
    public abstract long Length { get; }

    /// <summary>The CRC-32 the container recorded for these bytes, when it recorded one (zip records).</summary>
    public uint? ExpectedCrc { get; init; }

    /// <summary>Reads <paramref name="destination"/>.Length bytes starting at <paramref name="offset"/>.</summary>
    protected abstract void ReadRange(long offset, Span<byte> destination);

    /// <summary>Reads every byte into <paramref name="destination"/> (whose length is <see cref="Length"/>), in chunks.</summary>
    public virtual void ReadInto(Span<byte> destination, Action<int>? progress = null, CancellationToken cancellationToken = default)
    {
        for (int at = 0; at < destination.Length; at += ChunkSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int n = Math.Min(ChunkSize, destination.Length - at);
            ReadRange(at, destination.Slice(at, n));
            progress?.Invoke(n);
        }
    }

    /// <summary>Streams every byte through <paramref name="buffer"/> to <paramref name="sink"/>, never holding more than one buffer.</summary>
    public virtual void CopyTo(Action<ReadOnlyMemory<byte>> sink, byte[] buffer, CancellationToken cancellationToken = default)
    {
        for (long at = 0; at < Length; at += buffer.Length)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int n = (int)Math.Min(buffer.Length, Length - at);
            ReadRange(at, buffer.AsSpan(0, n));
            sink(buffer.AsMemory(0, n));
        }
    }
}
