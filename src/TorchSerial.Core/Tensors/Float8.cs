namespace TorchSerial.Tensors;

/// <summary>Exact decoding of the 8-bit float formats (OCP FP8 and the AMD "fnuz" variants).</summary>
internal static class Float8
{
    public enum Special
    {
        /// <summary>e5m2: infinities and NaNs like IEEE.</summary>
        Ieee,
        /// <summary>e4m3fn: no infinities; only S.1111.111 is NaN.</summary>
        AllOnesNaN,
        /// <summary>fnuz: no infinities, no negative zero; 0x80 is the only NaN.</summary>
        NegativeZeroNaN,
    }

    public static float Decode(byte v, int expBits, int manBits, int bias, Special special)
    {
        int sign = v >> 7;
        int exp = (v >> manBits) & ((1 << expBits) - 1);
        int man = v & ((1 << manBits) - 1);
        int maxExp = (1 << expBits) - 1;
        switch (special)
        {
            case Special.NegativeZeroNaN when v == 0x80:
                return float.NaN;
            case Special.AllOnesNaN when exp == maxExp && man == (1 << manBits) - 1:
                return float.NaN;
            case Special.Ieee when exp == maxExp:
                return man != 0 ? float.NaN : sign == 1 ? float.NegativeInfinity : float.PositiveInfinity;
        }
        double magnitude = exp == 0
            ? man * Math.Pow(2, 1 - bias - manBits)
            : (1 + man / (double)(1 << manBits)) * Math.Pow(2, exp - bias);
        return (float)(sign == 1 ? -magnitude : magnitude);
    }
}
