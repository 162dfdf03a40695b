using TorchSerial.Errors;
using System.Buffers.Binary;
using System.Numerics;

namespace TorchSerial.Tensors;

/// <summary>
/// Turns .NET values into the little-endian bytes of one element of a dtype, with the rounding torch
/// uses (round to nearest even for the reduced floats) and a clear error where a value does not fit.
/// </summary>
internal static class ElementEncoder
{
    public static void Encode(DType dtype, object value, Span<byte> dest, long index)
    {
        switch (dtype.Kind)
        {
            case ElementKind.Float when dtype.ItemSize == 8: BinaryPrimitives.WriteDoubleLittleEndian(dest, Real(value,
                index)); break;
            case ElementKind.Float: BinaryPrimitives.WriteSingleLittleEndian(dest, (float)Real(value, index)); break;
            case ElementKind.Half: BinaryPrimitives.WriteHalfLittleEndian(dest, (Half)Real(value, index)); break;
            case ElementKind.BFloat: BinaryPrimitives.WriteUInt16LittleEndian(dest, ToBFloat16((float)Real(value,
                index))); break;
            // As c10 converts a Python float: to float32 first, then to the format.
            case ElementKind.Float8E5M2 or ElementKind.Float8E4M3FN or ElementKind.Float8E5M2FNUZ
                or ElementKind.Float8E4M3FNUZ or ElementKind.Float8E8M0FNU:
                dest[0] = Float8.Of(dtype.Kind)!.Value.FromSingle((float)Real(value, index));
                break;
            case ElementKind.Bool: dest[0] = Real(value, index) != 0 ? (byte)1 : (byte)0; break;
            case ElementKind.Complex when dtype.ItemSize == 16:
            {
                var c = ToComplex(value, index);
                BinaryPrimitives.WriteDoubleLittleEndian(dest, c.Real);
                BinaryPrimitives.WriteDoubleLittleEndian(dest[8..], c.Imaginary);
                break;
            }
            case ElementKind.Complex:
            {
                var c = ToComplex(value, index);
                BinaryPrimitives.WriteSingleLittleEndian(dest, (float)c.Real);
                BinaryPrimitives.WriteSingleLittleEndian(dest[4..], (float)c.Imaginary);
                break;
            }
            case ElementKind.ComplexHalf:
            {
                var c = ToComplex(value, index);
                BinaryPrimitives.WriteHalfLittleEndian(dest, (Half)c.Real);
                BinaryPrimitives.WriteHalfLittleEndian(dest[2..], (Half)c.Imaginary);
                break;
            }
            default: WriteInteger(dtype, Integer(value, dtype, index), dest, index); break;
        }
    }

    /// <summary>bfloat16 from float32: round to nearest even on the dropped 16 bits; NaN stays NaN.</summary>
    internal static ushort ToBFloat16(float f)
    {
        uint bits = BitConverter.SingleToUInt32Bits(f);
        if (float.IsNaN(f)) return (ushort)((bits >> 16) | 0x40);
        return (ushort)((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16);
    }

    private static void WriteInteger(DType dtype, BigInteger v, Span<byte> dest, long index)
    {
        bool signed = dtype.Kind == ElementKind.SignedInt;
        int bits = dtype.ItemSize * 8;
        BigInteger min = signed ? -(BigInteger.One << (bits - 1)) : 0;
        BigInteger max = signed ? (BigInteger.One << (bits - 1)) - 1 : (BigInteger.One << bits) - 1;
        if (v < min || v > max)
            throw Invalid($"Element {index} ({v}) does not fit {dtype}, whose range is {min} to {max}.");
        ulong raw = signed ? unchecked((ulong)(long)v) : (ulong)v;
        for (int i = 0; i < dtype.ItemSize; i++) dest[i] = (byte)(raw >> (8 * i));
    }

    private static double Real(object value, long index) => value switch
    {
        double d => d,
        float f => f,
        Half h => (double)h,
        decimal m => (double)m,
        bool b => b ? 1 : 0,
        BigInteger big => (double)big,
        sbyte or byte or short or ushort or int or uint or long or ulong =>
            Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture),
        string s when double.TryParse(s, System.Globalization.NumberStyles.Float,
            System.Globalization.CultureInfo.InvariantCulture, out var parsed) => parsed,
        Complex => throw Invalid($"Element {index} is complex; choose a complex dtype (complex64, complex128, complex32)."),
        _ => throw Invalid($"Element {index} ({value}) is not a number."),
    };

    private static Complex ToComplex(object value, long index) =>
        value is Complex c ? c : new Complex(Real(value, index), 0);

    private static BigInteger Integer(object value, DType dtype, long index) => value switch
    {
        sbyte or byte or short or ushort or int or uint or long =>
            Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture),
        ulong u => u,
        BigInteger big => big,
        bool b => b ? 1 : 0,
        _ => Real(value, index) is var d && d == Math.Floor(d) && !double.IsInfinity(d)
            ? new BigInteger(d)
            : throw Invalid($"Element {index} ({value}) is not a whole number, so it cannot be stored as {dtype}."),
    };

    private static TorchSerialException Invalid(string message) =>
        new(ErrorIds.InvalidTensorData, ErrorKind.InvalidArgument, message);
}
