using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace TorchSerial.Buffers;

/// <summary>Byte swapping for checkpoints written on big-endian hosts (zip <c>byteorder</c> = <c>big</c>).</summary>
internal static class ByteOrder
{
    public static void SwapInPlace(Span<byte> data, int unit)
    {
        switch (unit)
        {
            case 2: BinaryPrimitives.ReverseEndianness(MemoryMarshal.Cast<byte, ushort>(data), MemoryMarshal.Cast<byte,
                ushort>(data)); break;
            case 4: BinaryPrimitives.ReverseEndianness(MemoryMarshal.Cast<byte, uint>(data), MemoryMarshal.Cast<byte,
                uint>(data)); break;
            case 8: BinaryPrimitives.ReverseEndianness(MemoryMarshal.Cast<byte, ulong>(data), MemoryMarshal.Cast<byte,
                ulong>(data)); break;
            case 1: break;
            default: throw new ArgumentOutOfRangeException(nameof(unit));
        }
    }
}
