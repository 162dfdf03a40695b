namespace TorchSerial.Tensors;

/// <summary>
/// The 8-bit float formats (OCP FP8 e4m3fn and e5m2, the AMD "fnuz" variants, and OCP MX's e8m0fnu scale), to and
/// from float32 bits as c10's conversions give them; judged byte for byte by LibTorch 2.10 for all 256 codes and for
/// values chosen to break the rounding (tests/TorchSerial.Judge). Every other dtype meets these formats through
/// float32, as c10's types convert only from and to float.
/// </summary>
internal readonly record struct Float8(int ExponentBits, int MantissaBits, int Bias, Float8.Special Rule)
{
    public enum Special
    {
        /// <summary>e5m2: infinities and NaNs like IEEE; overflow gives infinity.</summary>
        Ieee,
        /// <summary>e4m3fn: no infinities; only S.1111.111 is NaN, and overflow, infinities and NaN give it.</summary>
        AllOnesNaN,
        /// <summary>fnuz: no infinities, no negative zero; 0x80 is the only NaN, and what overflows becomes
        /// it.</summary>
        NegativeZeroNaN,
        /// <summary>e8m0fnu: an unsigned power of two (2^(code − 127)); 0xFF is NaN.</summary>
        PowerOfTwo,
    }

    public static readonly Float8 E5M2 = new(5, 2, 15, Special.Ieee);
    public static readonly Float8 E4M3FN = new(4, 3, 7, Special.AllOnesNaN);
    public static readonly Float8 E5M2FNUZ = new(5, 2, 16, Special.NegativeZeroNaN);
    public static readonly Float8 E4M3FNUZ = new(4, 3, 8, Special.NegativeZeroNaN);
    public static readonly Float8 E8M0FNU = new(8, 0, 127, Special.PowerOfTwo);

    /// <summary>The format of a float8 element kind; null for every other kind.</summary>
    public static Float8? Of(ElementKind kind) => kind switch
    {
        ElementKind.Float8E5M2 => E5M2,
        ElementKind.Float8E4M3FN => E4M3FN,
        ElementKind.Float8E5M2FNUZ => E5M2FNUZ,
        ElementKind.Float8E4M3FNUZ => E4M3FNUZ,
        ElementKind.Float8E8M0FNU => E8M0FNU,
        _ => null,
    };

    /// <summary>The code's value as float32 bits. NaN bits are c10's: e4m3fn keeps its mantissa under an all-ones
    /// exponent (0x7FF00000), e5m2 widens like the float16 it is the top byte of (quieted), and the fnuz and e8m0
    /// NaN is the signalling 0x7F800001.</summary>
    public uint ToSingleBits(byte code)
    {
        uint sign = Rule == Special.PowerOfTwo ? 0u : (uint)(code >> 7) << 31;
        int exponent = Rule == Special.PowerOfTwo ? code : (code >> MantissaBits) & ((1 << ExponentBits) - 1);
        int mantissa = code & ((1 << MantissaBits) - 1);
        int maxExponent = (1 << ExponentBits) - 1;
        switch (Rule)
        {
            case Special.PowerOfTwo when code == 0xFF:
            case Special.NegativeZeroNaN when code == 0x80:
                return 0x7F800001;
            case Special.PowerOfTwo:
                return code == 0 ? 0x00400000u : (uint)code << 23;
            case Special.AllOnesNaN when exponent == maxExponent && mantissa == (1 << MantissaBits) - 1:
                return sign | 0x7F800000u | (uint)mantissa << (23 - MantissaBits);
            case Special.Ieee when exponent == maxExponent:
                return mantissa == 0 ? sign | 0x7F800000u
                    : sign | 0x7FC00000u | (uint)mantissa << (23 - MantissaBits);
        }
        double magnitude = exponent == 0
            ? Math.ScaleB(mantissa, 1 - Bias - MantissaBits)
            : Math.ScaleB((1 << MantissaBits) + mantissa, exponent - Bias - MantissaBits);
        return sign | BitConverter.SingleToUInt32Bits((float)magnitude);
    }

    public float ToSingle(byte code) => BitConverter.UInt32BitsToSingle(ToSingleBits(code));

    /// <summary>A float32 value's code: round to nearest, ties to even (e8m0fnu: the magnitude's significand to a whole
    /// number, ties to even); what rounds past the largest finite value is infinity (e5m2) or NaN.</summary>
    public byte FromSingle(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        byte sign = (byte)(bits >> 24 & 0x80);
        uint magnitudeBits = bits & 0x7FFFFFFF;
        if (Rule == Special.PowerOfTwo) return PowerOfTwo(magnitudeBits);
        byte nan = Rule == Special.NegativeZeroNaN ? (byte)0x80 : (byte)(sign | 0x7F);
        if (magnitudeBits > 0x7F800000) return nan;
        byte overflow = Rule == Special.Ieee ? (byte)(sign | 0x7C) : nan;
        if (magnitudeBits == 0x7F800000) return overflow;

        // float32 has 24 significant bits, so the scaled value and its rounding are exact in double.
        double x = BitConverter.UInt32BitsToSingle(magnitudeBits);
        int minExponent = 1 - Bias;
        int exponent = x == 0 ? minExponent : Math.Max(Math.ILogB(x), minExponent);
        double steps = Math.Round(Math.ScaleB(x, MantissaBits - exponent), MidpointRounding.ToEven);
        if (steps == 1 << (MantissaBits + 1)) { exponent++; steps /= 2; }
        int field = steps < 1 << MantissaBits ? 0 : exponent + Bias;
        int mantissa = (int)steps & ((1 << MantissaBits) - 1);
        int code = field << MantissaBits | mantissa;
        if (code > MaxFiniteCode) return overflow;
        if (code == 0 && Rule == Special.NegativeZeroNaN) return 0;
        return (byte)(sign | code);
    }

    /// <summary>The largest finite code without its sign bit.</summary>
    private int MaxFiniteCode => Rule switch
    {
        Special.Ieee => (((1 << ExponentBits) - 1) << MantissaBits) - 1,
        Special.AllOnesNaN => 0x7E,
        _ => 0x7F,
    };

    private static byte PowerOfTwo(uint magnitudeBits)
    {
        if (magnitudeBits >= 0x7F800000) return 0xFF;
        uint exponent = magnitudeBits >> 23;
        // The significand rounds to a whole number, ties to even: 1.5 (a normal float's tie) goes up to 2, while a
        // float32 subnormal's 0.5 (exactly 2^-127, code 0) stays.
        if (exponent == 0) return magnitudeBits > 0x00400000 ? (byte)1 : (byte)0;
        uint rounded = exponent + ((magnitudeBits & 0x400000) != 0 ? 1u : 0u);
        return (byte)Math.Min(rounded, 0xFF);
    }
}
