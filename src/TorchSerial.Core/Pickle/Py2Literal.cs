using TorchSerial.Errors;
using System.Globalization;
using System.Text;

namespace TorchSerial.Pickle;

/// <summary>The text forms of protocol 0: quoted Python 2 string literals and raw-unicode-escape.</summary>
internal static class Py2Literal
{
    /// <summary>Turns <c>'abc\x00'</c> (STRING's argument) into its raw bytes.</summary>
    public static byte[] Unquote(byte[] line, string record, long offset)
    {
        int n = line.Length;
        if (n > 0 && line[n - 1] == '\r') n--;
        if (n < 2 || line[0] != line[n - 1] || (line[0] != '\'' && line[0] != '"'))
            throw Fail.Data(ErrorIds.PickleStructure, $"STRING at offset {offset} of '{record}' is not a quoted literal.", record, offset);
        var r = new List<byte>(n);
        for (int i = 1; i < n - 1; i++)
        {
            byte c = line[i];
            if (c != '\\' || i + 1 >= n - 1) { r.Add(c); continue; }
            byte e = line[++i];
            switch ((char)e)
            {
                case 'n': r.Add((byte)'\n'); break;
                case 't': r.Add((byte)'\t'); break;
                case 'r': r.Add((byte)'\r'); break;
                case 'a': r.Add(7); break;
                case 'b': r.Add(8); break;
                case 'f': r.Add(12); break;
                case 'v': r.Add(11); break;
                case 'x' when i + 2 < n - 1 && IsHex(line, i + 1, 2):
                    r.Add(byte.Parse(Encoding.ASCII.GetString(line, i + 1, 2), NumberStyles.HexNumber,
                        CultureInfo.InvariantCulture));
                    i += 2;
                    break;
                case >= '0' and <= '7':
                {
                    int v = e - '0', k = 1;
                    while (k < 3 && i + 1 < n - 1
                        && line[i + 1] is >= (byte)'0' and <= (byte)'7') { v = v * 8 + (line[++i] - '0'); k++; }
                    r.Add((byte)v);
                    break;
                }
                case '\\': case '\'': case '"': r.Add(e); break;
                default: r.Add((byte)'\\'); r.Add(e); break;
            }
        }
        return r.ToArray();
    }

    /// <summary>Decodes UNICODE's raw-unicode-escape argument: \uXXXX and \UXXXXXXXX escapes, other bytes
    /// Latin-1.</summary>
    public static string RawUnicodeEscape(byte[] line)
    {
        var sb = new StringBuilder(line.Length);
        for (int i = 0; i < line.Length; i++)
        {
            if (line[i] == '\\' && i + 1 < line.Length && line[i + 1] == 'u' && IsHex(line, i + 2, 4))
            {
                sb.Append((char)int.Parse(Encoding.ASCII.GetString(line, i + 2, 4), NumberStyles.HexNumber,
                    CultureInfo.InvariantCulture));
                i += 5;
            }
            else if (line[i] == '\\' && i + 1 < line.Length && line[i + 1] == 'U' && IsHex(line, i + 2, 8)
                     && uint.Parse(Encoding.ASCII.GetString(line, i + 2, 8), NumberStyles.HexNumber,
                         CultureInfo.InvariantCulture) is var cp
                     && cp <= 0x10FFFF && (cp < 0xD800 || cp > 0xDFFF))
            {
                sb.Append(char.ConvertFromUtf32((int)cp));
                i += 9;
            }
            else sb.Append((char)line[i]);
        }
        return sb.ToString();
    }

    private static bool IsHex(byte[] b, int start, int count)
    {
        if (start + count > b.Length) return false;
        for (int i = start; i < start + count; i++)
            if (!Uri.IsHexDigit((char)b[i])) return false;
        return true;
    }
}
