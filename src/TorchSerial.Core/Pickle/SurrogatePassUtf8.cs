using System.Text;

namespace TorchSerial.Pickle;

/// <summary>
/// UTF-8 as CPython's pickle reads and writes text: with 'surrogatepass', so a lone surrogate (which a Python str may
/// hold) travels as its 3-byte form (ED A0..BF xx) instead of becoming U+FFFD. Every other invalid byte sequence is an
/// error, as it is to CPython. .NET strings hold lone surrogates too, so the value round-trips exactly.
/// </summary>
internal static class SurrogatePassUtf8
{
    private static readonly Encoding Strict = new UTF8Encoding(false, throwOnInvalidBytes: true);

    /// <summary>The text, or null when the bytes are not UTF-8 even with surrogates let through.</summary>
    public static string? Decode(ReadOnlySpan<byte> bytes)
    {
        try { return Strict.GetString(bytes); }
        catch (DecoderFallbackException) { }
        var sb = new StringBuilder(bytes.Length);
        int i = 0;
        while (i < bytes.Length)
        {
            // A lone surrogate: ED followed by A0..BF and a continuation byte.
            if (bytes[i] == 0xED && i + 2 < bytes.Length && bytes[i + 1] is >= 0xA0 and <= 0xBF
                && bytes[i + 2] is >= 0x80 and <= 0xBF)
            {
                sb.Append((char)(0xD000 | ((bytes[i + 1] & 0x3F) << 6) | (bytes[i + 2] & 0x3F)));
                i += 3;
                continue;
            }
            int start = i++;
            while (i < bytes.Length && !(bytes[i] == 0xED && i + 1 < bytes.Length && bytes[i + 1] >= 0xA0)) i++;
            try { sb.Append(Strict.GetString(bytes[start..i])); }
            catch (DecoderFallbackException) { return null; }
        }
        return sb.ToString();
    }

    public static byte[] Encode(string s)
    {
        bool lone = false;
        for (int i = 0; i < s.Length && !lone; i++)
        {
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1])) i++;
            else if (char.IsSurrogate(s[i])) lone = true;
        }
        if (!lone) return Encoding.UTF8.GetBytes(s);
        var bytes = new List<byte>(s.Length + 8);
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            if (char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                bytes.AddRange(Encoding.UTF8.GetBytes(s.Substring(i, 2)));
                i++;
            }
            else if (char.IsSurrogate(c))
            {
                bytes.Add(0xED);
                bytes.Add((byte)(0x80 | ((c >> 6) & 0x3F)));
                bytes.Add((byte)(0x80 | (c & 0x3F)));
            }
            else bytes.AddRange(Encoding.UTF8.GetBytes(c.ToString()));
        }
        return bytes.ToArray();
    }
}
