namespace TorchSerial.Python;

/// <summary>A Python <c>bytearray</c>; plain <c>bytes</c> load as <see cref="T:System.Byte[]"/>.</summary>
public sealed class PyByteArray
{
    public PyByteArray(byte[] value) { Value = value; }
    public byte[] Value { get; }
    public override string ToString() => $"bytearray({Value.Length} bytes)";
}
