using TorchSerial.Buffers;

namespace TorchSerial.Containers;

/// <summary>One central-directory entry of a zip checkpoint (sizes already widened from zip64 extras).</summary>
internal sealed record ZipEntry(string Name, ushort Method, ushort Flags, uint Crc32, long CompressedSize,
    long UncompressedSize, long LocalHeaderOffset)
    : IDeferredSource
{
    public const ushort Stored = 0;
    public const ushort Deflated = 8;

    /// <summary>The CRC-32 to hold the bytes to; a stored 0 means "not computed" (torch's opt-out), not a
    /// checksum.</summary>
    public uint? RecordedCrc => Crc32 == 0 ? null : Crc32;

    /// <summary>The directory the entry was read from, which opens its bytes.</summary>
    internal ZipDirectory? Directory { get; set; }

    StorageBuffer IDeferredSource.Open() => (Directory ?? throw new InvalidOperationException(
        $"Record '{Name}' belongs to no directory.")).Open(this);

    uint? IDeferredSource.Crc => RecordedCrc;
}
