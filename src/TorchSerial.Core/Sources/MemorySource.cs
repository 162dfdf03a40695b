namespace TorchSerial.Sources;

/// <summary>Bytes already in memory (tensors made from values, crafted test buffers).</summary>
public sealed class MemorySource : StorageSource
{
    private readonly ReadOnlyMemory<byte> _bytes;

    public MemorySource(ReadOnlyMemory<byte> bytes) { _bytes = bytes; }

    public override long Length => _bytes.Length;

    protected override void ReadRange(long offset, Span<byte> destination) => _bytes.Span.Slice((int)offset, destination.Length).CopyTo(destination);
}
