namespace TorchSerial.Buffers;

/// <summary>
/// The CRC-32 of two runs of bytes joined, from the CRC of each and the length of the second (zlib's
/// crc32_combine: appending n zero bytes is a linear map over GF(2), applied by repeated squaring). It lets
/// chunks of one storage be checked on several cores and still be held to the single CRC the zip recorded.
/// </summary>
internal static class Crc32Combine
{
    private const uint Polynomial = 0xEDB88320; // CRC-32 (IEEE), reflected

    public static uint Combine(uint crc1, uint crc2, long length2)
    {
        if (length2 <= 0) return crc1;
        Span<uint> even = stackalloc uint[32], odd = stackalloc uint[32];
        odd[0] = Polynomial; // the operator for one zero bit
        for (int n = 1, row = 1; n < 32; n++, row <<= 1) odd[n] = (uint)row;
        Square(even, odd); // two zero bits
        Square(odd, even); // four zero bits
        do
        {
            Square(even, odd); // the first squaring here gives one zero byte
            if ((length2 & 1) != 0) crc1 = Times(even, crc1);
            length2 >>= 1;
            if (length2 == 0) break;
            Square(odd, even);
            if ((length2 & 1) != 0) crc1 = Times(odd, crc1);
            length2 >>= 1;
        } while (length2 != 0);
        return crc1 ^ crc2;
    }

    private static uint Times(ReadOnlySpan<uint> matrix, uint vector)
    {
        uint sum = 0;
        for (int i = 0; vector != 0; i++, vector >>= 1)
            if ((vector & 1) != 0) sum ^= matrix[i];
        return sum;
    }

    private static void Square(Span<uint> square, ReadOnlySpan<uint> matrix)
    {
        for (int n = 0; n < 32; n++) square[n] = Times(matrix, matrix[n]);
    }
}
