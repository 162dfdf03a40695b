namespace TorchSerial.Sources;

/// <summary>
/// Where a storage's bytes come from. Storages hold a source and read it when their data is first
/// needed, so an eager load, a lazy load and (later) a memory map differ only in when this is called.
/// </summary>
public abstract class StorageSource
{
    /// <summary>Number of bytes the source yields.</summary>
    public abstract long Length { get; }

    /// <summary>Reads every byte into <paramref name="destination"/>, whose length is <see cref="Length"/>.</summary>
    public abstract void ReadInto(Span<byte> destination);
}
