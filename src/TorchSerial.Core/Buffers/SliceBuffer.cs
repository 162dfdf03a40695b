namespace TorchSerial.Buffers;

/// <summary>A window of another buffer: the view storages of the legacy formats, which share their root's
/// bytes.</summary>
internal sealed class SliceBuffer(StorageBuffer root, long offset, long length) : StorageBuffer
{
    public override long Length => length;
    public override string Device => root.Device;
    public override bool IsResident => root.IsResident;

    // A slice's CRC is not its root's; nothing records one.
    public override uint? KnownCrc { get => null; set { } }

    public override void Read(long at, Span<byte> destination) => root.Read(offset + at, destination);

    public override bool TryGetSpan(long at, int count, out ReadOnlySpan<byte> span) =>
        root.TryGetSpan(offset + at, count, out span);
}
