using System.Globalization;
using System.Text;

namespace TorchSerial.Containers;

/// <summary>
/// JSON strings written the way the two writers we match write them: serde_json (safetensors headers) keeps UTF-8 and
/// escapes only quotes, backslashes and control characters; Python's json module (index files) also escapes every
/// non-ASCII character as <c>\uXXXX</c>. Both use the short escapes and lower-case hex.
/// </summary>
internal static class JsonText
{
    public static StringBuilder AppendString(StringBuilder sb, string s, bool escapeNonAscii)
    {
        sb.Append('"');
        foreach (char c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case < ' ':
                case > '\x7e' when escapeNonAscii: // Python escapes DEL too: ensure_ascii keeps only ' '..'~'
                    sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    break;
                default: sb.Append(c); break;
            }
        }
        return sb.Append('"');
    }
}
