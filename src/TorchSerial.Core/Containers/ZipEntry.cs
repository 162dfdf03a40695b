namespace TorchSerial.Containers;

/// <summary>One central-directory entry of a zip checkpoint (sizes already widened from zip64 extras).</summary>
internal sealed record ZipEntry(string Name, ushort Method, ushort Flags, uint Crc32, long CompressedSize, long UncompressedSize, long LocalHeaderOffset)
{
    public const ushort Stored = 0;
    public const ushort Deflated = 8;
}
