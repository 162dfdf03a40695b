using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.InteropServices;

namespace TorchSerial.Tensors;

/// <summary>
/// torch's <c>Tensor.to(dtype)</c> on the CPU, element by element, to the byte: what C++'s static_cast does on
/// x86-64, which torch's copy kernels use. Floats narrow with round-to-nearest-even (float64 to float16 and bfloat16
/// through float32, as c10::Half and c10::BFloat16 take a float; bfloat16 makes every NaN 0x7FC0); floats become
/// integers by truncation through a 32-bit conversion for int32 and narrower (cvttss2si: NaN, infinities and values
/// out of range give INT_MIN, then narrower types keep the low bits) and a 64-bit one for int64; integers wrap;
/// bool is x != 0 (NaN is true; a complex number's real part only, as torch 1.13 casts it); complex to real keeps
/// the real part. NaN bits follow torch's kernels too: float16 NaN is sign | 0x7E00 (c10's conversion); a bfloat16
/// NaN made from float32 or float64 is 0xFFFF where torch's AVX2 kernel converts 16 elements at a time and 0x7FC0
/// in the last n mod 16 elements, which its scalar loop converts (other CPUs differ in torch itself). Checked
/// against real torch for every pair of its 12 classic dtypes (tests/fixtures/casts.py).
/// </summary>
public static class ElementCast
{
    /// <summary>The dtypes casts are defined between (torch's classic dtypes; the rest have no torch 1.13 to judge
    /// them).</summary>
    public static bool Supports(DType dtype) => dtype.StorageClass is not null && !dtype.IsQuantized;

    /// <summary>Elements torch's AVX2 float→bfloat16 kernel converts per step; the remainder goes through its scalar
    /// loop.</summary>
    private const int VectorStep = 16;

    /// <summary>Casts whole elements of <paramref name="from"/> in <paramref name="source"/> into <paramref
    /// name="destination"/>.</summary>
    /// <param name="from">The source dtype.</param>
    /// <param name="source">Whole little-endian elements of <paramref name="from"/>.</param>
    /// <param name="to">The target dtype.</param>
    /// <param name="destination">Room for as many elements of <paramref name="to"/>.</param>
    /// <param name="vectorEnd">
    /// How many leading elements torch's vectorized loop would convert (for a whole tensor, n − n mod 16); only the NaN
    /// bits of float→bfloat16 depend on it. Null takes the whole span as the tensor.
    /// </param>
    public static void Cast(DType from, ReadOnlySpan<byte> source, DType to, Span<byte> destination,
        long? vectorEnd = null)
    {
        int n = source.Length / from.ItemSize;
        long vector = vectorEnd ?? n - n % VectorStep;
        bool vectorNaN = to == DType.BFloat16 && (from == DType.Float32 || from == DType.Float64);
        if (from == to) { source.CopyTo(destination); return; }
        if (from == DType.Float32 && to == DType.BFloat16)
        {
            FloatToBFloat16(MemoryMarshal.Cast<byte, float>(source), MemoryMarshal.Cast<byte, ushort>(destination),
                vector);
            return;
        }
        if (from == DType.BFloat16 && to == DType.Float32)
        {
            var s = MemoryMarshal.Cast<byte, ushort>(source);
            var d = MemoryMarshal.Cast<byte, uint>(destination);
            for (int i = 0; i < n; i++) d[i] = (uint)s[i] << 16;
            return;
        }
        // Widening to float64 is exact, and float64 → float32 is one round-to-nearest-even, as torch's static_cast:
        // the element-by-element path below took 15 ns an element, which made an average of three GPT-2 files 7.9 s.
        if (to == DType.Float64 && from == DType.Float32)
        {
            var s = MemoryMarshal.Cast<byte, float>(source);
            var d = MemoryMarshal.Cast<byte, double>(destination);
            for (int i = 0; i < n; i++) d[i] = s[i];
            return;
        }
        if (to == DType.Float64 && from == DType.BFloat16)
        {
            var s = MemoryMarshal.Cast<byte, ushort>(source);
            var d = MemoryMarshal.Cast<byte, double>(destination);
            for (int i = 0; i < n; i++) d[i] = BitConverter.Int32BitsToSingle(s[i] << 16);
            return;
        }
        if (to == DType.Float64 && from == DType.Float16)
        {
            var s = MemoryMarshal.Cast<byte, Half>(source);
            var d = MemoryMarshal.Cast<byte, double>(destination);
            for (int i = 0; i < n; i++) d[i] = (double)s[i];
            return;
        }
        if (from == DType.Float64 && to == DType.Float32)
        {
            var s = MemoryMarshal.Cast<byte, double>(source);
            var d = MemoryMarshal.Cast<byte, float>(destination);
            for (int i = 0; i < n; i++) d[i] = (float)s[i];
            return;
        }
        if (from == DType.Float32 && to == DType.Float16)
        {
            var s = MemoryMarshal.Cast<byte, float>(source);
            var d = MemoryMarshal.Cast<byte, Half>(destination);
            for (int i = 0; i < n; i++) d[i] = ToHalf(s[i]);
            return;
        }
        for (int i = 0; i < n; i++)
        {
            var v = Read(from, source.Slice(i * from.ItemSize, from.ItemSize));
            var at = destination.Slice(i * to.ItemSize, to.ItemSize);
            if (vectorNaN && i < vector && double.IsNaN(v.Real)) BinaryPrimitives.WriteUInt16LittleEndian(at, 0xFFFF);
            else Write(to, v, at);
        }
    }

    /// <summary>
    /// float32 → bfloat16 in <see cref="Vector{T}"/> lanes: the same round-to-nearest-even on the bits, NaN lanes
    /// replaced by torch's NaN (0xFFFF in its vectorized part, 0x7FC0 after), two vectors narrowed into one.
    /// </summary>
    private static void FloatToBFloat16(ReadOnlySpan<float> source, Span<ushort> destination, long vectorEnd)
    {
        int lanes = Vector<uint>.Count, i = 0;
        var bias = new Vector<uint>(0x7FFF);
        var one = new Vector<uint>(1);
        var vectorNaN = new Vector<uint>(0xFFFF);
        for (; i + 2 * lanes <= source.Length && i + 2 * lanes <= vectorEnd; i += 2 * lanes)
        {
            var a = new Vector<float>(source[i..]);
            var b = new Vector<float>(source[(i + lanes)..]);
            Vector.Narrow(Round(a, bias, one, vectorNaN), Round(b, bias, one, vectorNaN)).CopyTo(destination[i..]);
        }
        for (; i < source.Length; i++)
            destination[i] = float.IsNaN(source[i]) ? (i < vectorEnd ? (ushort)0xFFFF : (ushort)0x7FC0)
                : ToBFloat16(source[i]);
    }

    private static Vector<uint> Round(Vector<float> v, Vector<uint> bias, Vector<uint> one, Vector<uint> nan)
    {
        var bits = Vector.AsVectorUInt32(v);
        var rounded = Vector.ShiftRightLogical(bits + bias + (Vector.ShiftRightLogical(bits, 16) & one), 16);
        return Vector.ConditionalSelect(Vector.AsVectorUInt32(Vector.Equals(v, v)), rounded, nan);
    }

    /// <summary>c10's float→half: round-to-nearest-even, and every NaN the quiet sign | 0x7E00.</summary>
    public static Half ToHalf(float f)
        => float.IsNaN(f)
            ? BitConverter.UInt16BitsToHalf((ushort)((BitConverter.SingleToUInt32Bits(f) >> 16 & 0x8000) | 0x7E00))
            : (Half)f;

    /// <summary>c10::BFloat16's round-to-nearest-even, NaN to the quiet 0x7FC0.</summary>
    public static ushort ToBFloat16(float f)
    {
        if (float.IsNaN(f)) return 0x7FC0;
        uint bits = BitConverter.SingleToUInt32Bits(f);
        return (ushort)((bits + 0x7FFFu + ((bits >> 16) & 1)) >> 16);
    }

    /// <summary>One element, as the widest value of its kind: a double (floats), a long (integers, bool) or a complex
    /// pair.</summary>
    private readonly record struct Value(bool IsInteger, long Integer, double Real, double Imaginary)
    {
        /// <summary>The value as a float, rounded as C++ converts it (a long directly, a double once).</summary>
        public float AsFloat => IsInteger ? Integer : (float)Real;
    }

    private static Value Read(DType d, ReadOnlySpan<byte> b) => d.Kind switch
    {
        ElementKind.Float when d.ItemSize == 8 => new(false, 0, BinaryPrimitives.ReadDoubleLittleEndian(b), 0),
        ElementKind.Float => new(false, 0, BinaryPrimitives.ReadSingleLittleEndian(b), 0),
        ElementKind.Half => new(false, 0, (float)BinaryPrimitives.ReadHalfLittleEndian(b), 0),
        ElementKind.BFloat => new(false, 0,
            BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(b) << 16), 0),
        ElementKind.Complex when d.ItemSize == 16 =>
            new(false, 0, BinaryPrimitives.ReadDoubleLittleEndian(b), BinaryPrimitives.ReadDoubleLittleEndian(b[8..])),
        ElementKind.Complex => new(false, 0, BinaryPrimitives.ReadSingleLittleEndian(b),
            BinaryPrimitives.ReadSingleLittleEndian(b[4..])),
        ElementKind.Bool => new(true, b[0] != 0 ? 1 : 0, 0, 0),
        ElementKind.UnsignedInt => new(true, b[0], 0, 0),
        ElementKind.SignedInt => d.ItemSize switch
        {
            1 => new(true, (sbyte)b[0], 0, 0),
            2 => new(true, BinaryPrimitives.ReadInt16LittleEndian(b), 0, 0),
            4 => new(true, BinaryPrimitives.ReadInt32LittleEndian(b), 0, 0),
            _ => new(true, BinaryPrimitives.ReadInt64LittleEndian(b), 0, 0),
        },
        _ => throw new NotSupportedException($"Casting from {d} is not supported."),
    };

    private static void Write(DType d, Value v, Span<byte> b)
    {
        switch (d.Kind)
        {
            case ElementKind.Float when d.ItemSize == 8: BinaryPrimitives.WriteDoubleLittleEndian(b, v.IsInteger
                ? v.Integer : v.Real); return;
            case ElementKind.Float: BinaryPrimitives.WriteSingleLittleEndian(b, v.AsFloat); return;
            case ElementKind.Half: BinaryPrimitives.WriteHalfLittleEndian(b, ToHalf(v.AsFloat)); return;
            case ElementKind.BFloat: BinaryPrimitives.WriteUInt16LittleEndian(b, ToBFloat16(v.AsFloat)); return;
            case ElementKind.Complex when d.ItemSize == 16:
                BinaryPrimitives.WriteDoubleLittleEndian(b, v.IsInteger ? v.Integer : v.Real);
                BinaryPrimitives.WriteDoubleLittleEndian(b[8..], v.Imaginary);
                return;
            case ElementKind.Complex:
                BinaryPrimitives.WriteSingleLittleEndian(b, v.AsFloat);
                BinaryPrimitives.WriteSingleLittleEndian(b[4..], (float)v.Imaginary);
                return;
            case ElementKind.Bool: b[0] = (byte)(v.IsInteger ? (v.Integer != 0 ? 1 : 0) : (v.Real != 0 ? 1
                : 0)); return;
            case ElementKind.UnsignedInt: b[0] = (byte)Narrow(v); return;
            case ElementKind.SignedInt:
                switch (d.ItemSize)
                {
                    case 1: b[0] = (byte)(sbyte)Narrow(v); return;
                    case 2: BinaryPrimitives.WriteInt16LittleEndian(b, (short)Narrow(v)); return;
                    case 4: BinaryPrimitives.WriteInt32LittleEndian(b, Narrow(v)); return;
                    default: BinaryPrimitives.WriteInt64LittleEndian(b, Wide(v)); return;
                }
        }
        throw new NotSupportedException($"Casting to {d} is not supported.");
    }

    /// <summary>A 32-bit conversion (cvttss2si / cvttsd2si): truncation, and INT_MIN for NaN, infinities and out of
    /// range.</summary>
    private static int Narrow(Value v)
    {
        if (v.IsInteger) return (int)v.Integer;
        double x = v.Real;
        return double.IsNaN(x) || x >= 2147483648.0 || x <= -2147483649.0 ? int.MinValue : (int)x;
    }

    /// <summary>The 64-bit conversion: truncation, and INT64_MIN for NaN, infinities and out of range.</summary>
    private static long Wide(Value v)
    {
        if (v.IsInteger) return v.Integer;
        double x = v.Real;
        return double.IsNaN(x) || x >= 9223372036854775808.0 || x < -9223372036854775808.0 ? long.MinValue : (long)x;
    }
}
