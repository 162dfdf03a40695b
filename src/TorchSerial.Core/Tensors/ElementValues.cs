using System.Numerics;
using System.Runtime.InteropServices;

namespace TorchSerial.Tensors;

/// <summary>
/// Element bytes as doubles, the precision every comparison and statistic accumulates in. Complex elements give two
/// values (real, imaginary); packed sub-byte types give their stored bytes.
/// </summary>
internal static class ElementValues
{
    /// <summary>Doubles per element of <paramref name="dtype"/>.</summary>
    public static int PerElement(DType dtype) => dtype.Kind is ElementKind.Complex or ElementKind.ComplexHalf ? 2 : 1;

    /// <summary>Widens whole elements in <paramref name="bytes"/> into <paramref name="values"/> (PerElement values
    /// each).</summary>
    public static void ToDouble(DType dtype, ReadOnlySpan<byte> bytes, Span<double> values)
    {
        switch (dtype.Kind)
        {
            case ElementKind.Float when dtype.ItemSize == 8: MemoryMarshal.Cast<byte,
                double>(bytes).CopyTo(values); return;
            case ElementKind.Float: Widen(MemoryMarshal.Cast<byte, float>(bytes), values); return;
            case ElementKind.Half:
                var halves = MemoryMarshal.Cast<byte, Half>(bytes);
                for (int i = 0; i < halves.Length; i++) values[i] = (double)halves[i];
                return;
            case ElementKind.BFloat:
                var bits = MemoryMarshal.Cast<byte, ushort>(bytes);
                for (int i = 0; i < bits.Length; i++) values[i] = BitConverter.Int32BitsToSingle(bits[i] << 16);
                return;
            case ElementKind.Complex when dtype.ItemSize == 16: MemoryMarshal.Cast<byte,
                double>(bytes).CopyTo(values); return;
            case ElementKind.Complex: Widen(MemoryMarshal.Cast<byte, float>(bytes), values); return;
            case ElementKind.SignedInt when dtype.ItemSize == 1:
                var sb = MemoryMarshal.Cast<byte, sbyte>(bytes);
                for (int i = 0; i < sb.Length; i++) values[i] = sb[i];
                return;
            case ElementKind.SignedInt when dtype.ItemSize == 2:
                var s16 = MemoryMarshal.Cast<byte, short>(bytes);
                for (int i = 0; i < s16.Length; i++) values[i] = s16[i];
                return;
            case ElementKind.SignedInt when dtype.ItemSize == 4:
                var s32 = MemoryMarshal.Cast<byte, int>(bytes);
                for (int i = 0; i < s32.Length; i++) values[i] = s32[i];
                return;
            case ElementKind.SignedInt:
                var s64 = MemoryMarshal.Cast<byte, long>(bytes);
                for (int i = 0; i < s64.Length; i++) values[i] = s64[i];
                return;
            case ElementKind.UnsignedInt or ElementKind.Bool or ElementKind.Packed when dtype.ItemSize == 1:
                for (int i = 0; i < bytes.Length; i++) values[i] = bytes[i];
                return;
        }
        // Everything else (float8, uint16/32/64, complex32) through the exact decoder.
        int at = 0;
        foreach (var v in ElementDecoder.Decode(dtype, bytes.ToArray()))
        {
            if (v is Complex c) { values[at++] = c.Real; values[at++] = c.Imaginary; }
            else values[at++] = Convert.ToDouble(v, System.Globalization.CultureInfo.InvariantCulture);
        }
    }

    private static void Widen(ReadOnlySpan<float> source, Span<double> values)
    {
        for (int i = 0; i < source.Length; i++) values[i] = source[i];
    }
}
