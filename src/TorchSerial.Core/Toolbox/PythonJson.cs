using System.Collections;
using System.Globalization;
using System.Numerics;
using System.Text;
using TorchSerial.Containers;
using TorchSerial.Python;
using TorchSerial.Tensors;

namespace TorchSerial.Toolbox;

/// <summary>
/// A loaded object as JSON text, byte for byte what Python's <c>json.dumps(obj, indent=2)</c> writes for it:
/// integer, float, bool and None keys become strings as json.dumps makes them ("0", "1.5", "true", "null"), floats
/// are Python's repr (NaN and Infinity included), non-ASCII text is \u-escaped. Where json.dumps would raise, a value
/// is written as the <c>default=</c> hook documented in about_TorchSerial would: a tensor as its dtype and shape
/// (never its data), bytes as a list of ints, a set as a list, anything else as its repr. Cycles are written
/// as "[...]" strings rather than recursing forever (json.dumps raises on them). ConvertTo-Json cannot serialize a
/// dict with integer keys (an optimizer's state), which is why this exists.
/// </summary>
public static class PythonJson
{
    // The toolbox's writer serves ToJson() on the Python values, which cannot see tensors (JsonDumps). A module
    // initializer, so that it is there before the first dict exists, whoever makes it.
#pragma warning disable CA2255 // a library's initializer: here it only sets one delegate
    [System.Runtime.CompilerServices.ModuleInitializer]
    internal static void PlugIn() => JsonDumps.Writer = Serialize;
#pragma warning restore CA2255

    /// <summary>The JSON text of <paramref name="value"/>; <paramref name="indent"/> null is json.dumps's one-line
    /// form.</summary>
    public static string Serialize(object? value, int? indent = 2)
    {
        var sb = new StringBuilder();
        new Writer(sb, indent).Write(value, 0);
        return sb.ToString();
    }

    private sealed class Writer(StringBuilder sb, int? indent)
    {
        private readonly HashSet<object> _open = new(ReferenceEqualityComparer.Instance);

        public void Write(object? value, int level)
        {
            switch (value)
            {
                case null: sb.Append("null"); break;
                case bool b: sb.Append(b ? "true" : "false"); break;
                case string s: Text(s); break;
                case double d: sb.Append(Number(d)); break;
                case float f: sb.Append(Number(f)); break;
                case BigInteger or long or int or short or sbyte or ulong or uint or ushort or byte:
                    sb.Append(((IFormattable)value).ToString(null, CultureInfo.InvariantCulture)); break;
                case Tensor t: Object(level, new (object, object?)[] { ("dtype", t.DType),
                    ("shape", t.Shape.Select(x => (object?)x).ToList()) }); break;
                case byte[] bytes: Array(bytes.Select(x => (object?)(long)x).ToList(), level); break;
                case PyByteArray bytes: Array(bytes.Value.Select(x => (object?)(long)x).ToList(), level); break;
                case IDictionary dict: Nested(dict, level, () => Object(level, Entries(dict))); break;
                case IList list: Nested(list, level, () => Array(list.Cast<object?>().ToList(), level)); break;
                default: Text(value.ToString() ?? ""); break;
            }
        }

        private static IEnumerable<(object Key, object? Value)> Entries(IDictionary dict)
        {
            foreach (DictionaryEntry e in dict) yield return (e.Key, e.Value);
        }

        private void Nested(object container, int level, Action write)
        {
            if (!_open.Add(container)) { Text(container is IDictionary ? "{...}" : "[...]"); return; }
            write();
            _open.Remove(container);
        }

        private void Object(int level, IEnumerable<(object Key, object? Value)> entries)
        {
            bool any = false;
            foreach (var (key, value) in entries)
            {
                Separate(any ? ',' : '{', level + 1, first: !any);
                any = true;
                Text(Key(key));
                sb.Append(": ");
                Write(value, level + 1);
            }
            if (!any) { sb.Append("{}"); return; }
            Close('}', level);
        }

        private void Array(IReadOnlyList<object?> items, int level)
        {
            if (items.Count == 0) { sb.Append("[]"); return; }
            for (int i = 0; i < items.Count; i++)
            {
                Separate(i == 0 ? '[' : ',', level + 1, first: i == 0);
                Write(items[i], level + 1);
            }
            Close(']', level);
        }

        // json.dumps: with an indent, every item on its own line; without, ", " between items on one line.
        private void Separate(char mark, int level, bool first)
        {
            sb.Append(mark);
            if (indent is { } n) sb.Append('\n').Append(' ', level * n);
            else if (!first) sb.Append(' ');
        }

        private void Close(char mark, int level)
        {
            if (indent is { } n) sb.Append('\n').Append(' ', level * n);
            sb.Append(mark);
        }

        /// <summary>json.dumps's key coercion: str as is, int and float as text, True/False/None as JSON
        /// words.</summary>
        private static string Key(object key) => key switch
        {
            string s => s,
            bool b => b ? "true" : "false",
            double d => Number(d),
            IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
            _ => PyRepr.Of(key),
        };

        private static string Number(double d) => double.IsNaN(d) ? "NaN"
            : double.IsPositiveInfinity(d) ? "Infinity" : double.IsNegativeInfinity(d) ? "-Infinity" : PyRepr.Float(d);

        private void Text(string s) => JsonText.AppendString(sb, s, escapeNonAscii: true);
    }
}
