namespace TorchSerial.Sources;

/// <summary>Bytes already in memory (a deflated record after inflation, a crafted test buffer).</summary>
public sealed class MemorySource : StorageSource
{
    private readonly ReadOnlyMemory<byte> _bytes;

    public MemorySource(ReadOnlyMemory<byte> bytes) { _bytes = bytes; }

    public override long Length => _bytes.Length;

    public override void ReadInto(Span<byte> destination) => _bytes.Span.CopyTo(destination);
}
