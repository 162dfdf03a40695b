using System.Buffers.Binary;
using System.Text;

namespace TorchSerial.Containers;

/// <summary>
/// The NumPy .npy layout, as far as a scanner needs it: magic <c>\x93NUMPY</c>, a version, a header length (2 bytes in
/// version 1, 4 in versions 2 and 3) and a Python-literal header dict. An array of dtype object (<c>'descr': '|O'</c>)
/// is stored as a pickle right after the header, which numpy.load(allow_pickle=True) runs.
/// </summary>
internal static class NumpyArray
{
    private static ReadOnlySpan<byte> Magic
        => new byte[] { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y' };

    /// <summary>Where the pickle of an object array starts, or null when the bytes are no .npy of objects.</summary>
    public static int? PickleStart(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < 12 || !bytes.StartsWith(Magic)) return null;
        int major = bytes[6];
        int headerLength, at;
        if (major == 1) { headerLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes[8..]); at = 10; }
        else if (major is 2 or 3)
        {
            uint n = BinaryPrimitives.ReadUInt32LittleEndian(bytes[8..]);
            if (n > int.MaxValue) return null;
            headerLength = (int)n;
            at = 12;
        }
        else return null;
        if (headerLength > bytes.Length - at) return null;
        string header = Encoding.Latin1.GetString(bytes.Slice(at, headerLength));
        bool objects = header.Contains("'descr': '|O'", StringComparison.Ordinal)
            || header.Contains("\"descr\": \"|O\"", StringComparison.Ordinal);
        return objects ? at + headerLength : null;
    }
}
