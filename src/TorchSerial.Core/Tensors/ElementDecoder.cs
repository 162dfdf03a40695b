using System.Numerics;
using System.Runtime.InteropServices;

namespace TorchSerial.Tensors;

/// <summary>Turns little-endian element bytes into a typed .NET array.</summary>
internal static class ElementDecoder
{
    public static Array Decode(DType dtype, byte[] bytes)
    {
        var b = bytes.AsSpan();
        return dtype.Kind switch
        {
            ElementKind.Float when dtype.ItemSize == 8 => MemoryMarshal.Cast<byte, double>(b).ToArray(),
            ElementKind.Float => MemoryMarshal.Cast<byte, float>(b).ToArray(),
            ElementKind.Half => MemoryMarshal.Cast<byte, Half>(b).ToArray(),
            ElementKind.BFloat => Widen(MemoryMarshal.Cast<byte, ushort>(b), bits =>
                BitConverter.Int32BitsToSingle(bits << 16)),
            ElementKind.Float8E5M2 or ElementKind.Float8E4M3FN or ElementKind.Float8E5M2FNUZ
                or ElementKind.Float8E4M3FNUZ or ElementKind.Float8E8M0FNU
                => Widen(b, Float8.Of(dtype.Kind)!.Value.ToSingle),
            ElementKind.SignedInt => dtype.ItemSize switch
            {
                1 => MemoryMarshal.Cast<byte, sbyte>(b).ToArray(),
                2 => MemoryMarshal.Cast<byte, short>(b).ToArray(),
                4 => MemoryMarshal.Cast<byte, int>(b).ToArray(),
                _ => MemoryMarshal.Cast<byte, long>(b).ToArray(),
            },
            ElementKind.UnsignedInt => dtype.ItemSize switch
            {
                1 => b.ToArray(),
                2 => MemoryMarshal.Cast<byte, ushort>(b).ToArray(),
                4 => MemoryMarshal.Cast<byte, uint>(b).ToArray(),
                _ => MemoryMarshal.Cast<byte, ulong>(b).ToArray(),
            },
            ElementKind.Bool => Widen(b, v => v != 0),
            ElementKind.Complex when dtype.ItemSize == 16 => Pairs(MemoryMarshal.Cast<byte, double>(b), x => x),
            ElementKind.Complex => Pairs(MemoryMarshal.Cast<byte, float>(b), x => x),
            ElementKind.ComplexHalf => Pairs(MemoryMarshal.Cast<byte, Half>(b), x => (double)x),
            // Sub-byte packed types: one stored byte per element, handed back as is.
            _ => b.ToArray(),
        };
    }

    private static TOut[] Widen<TIn, TOut>(ReadOnlySpan<TIn> src, Func<TIn, TOut> f)
    {
        var r = new TOut[src.Length];
        for (int i = 0; i < r.Length; i++) r[i] = f(src[i]);
        return r;
    }

    private static Complex[] Pairs<T>(ReadOnlySpan<T> parts, Func<T, double> f)
    {
        var r = new Complex[parts.Length / 2];
        for (int i = 0; i < r.Length; i++) r[i] = new Complex(f(parts[2 * i]), f(parts[2 * i + 1]));
        return r;
    }
}
