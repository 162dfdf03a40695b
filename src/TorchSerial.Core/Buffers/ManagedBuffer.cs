using System.Runtime.InteropServices;

namespace TorchSerial.Buffers;

/// <summary>Bytes in a managed array: storages made from values, and loaded storages up to one array's size.</summary>
internal sealed class ManagedBuffer(ReadOnlyMemory<byte> bytes) : HostBuffer
{
    public override long Length => bytes.Length;

    public override Span<byte> Window(long offset, int length) =>
        MemoryMarshal.AsMemory(bytes).Span.Slice(checked((int)offset), length);
}
