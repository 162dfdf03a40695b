using System.Globalization;

namespace TorchSerial.Python;

/// <summary>Python-like text for values: used for names built from dict keys and for display.</summary>
public static class PyRepr
{
    /// <summary>Python's <c>str()</c> of a value, as used for a segment of a tensor's Name.</summary>
    public static string Str(object? value) => value switch
    {
        null => "None",
        string s => s,
        bool b => b ? "True" : "False",
        double d => Float(d),
        byte[] bytes => Bytes(bytes),
        float f32 => Float(f32),
        System.Numerics.Complex c => Complex(c),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    /// <summary>Python's <c>repr()</c>, shortened: nesting past a few levels and text past a few hundred characters
    /// become '…', and a container inside itself is '[...]' or '{...}' as Python writes it.</summary>
    public static string Of(object? value)
    {
        var sb = new System.Text.StringBuilder();
        Append(sb, value, 0, new HashSet<object>(ReferenceEqualityComparer.Instance));
        return sb.ToString();
    }

    private const int MaxDepth = 6, MaxLength = 300;

    // Containers call back into this with a depth, so a pickle nested 200,000 levels deep renders as
    // '[[[[[[…]]]]]]' instead of overflowing the stack (which would kill the pwsh process); the length cap bounds
    // the time too, however shared or cyclic the graph is.
    private static void Append(System.Text.StringBuilder sb, object? value, int depth, HashSet<object> open)
    {
        if (sb.Length > MaxLength) return;
        switch (value)
        {
            case string s: sb.Append('\'').Append(s.Length > MaxLength ? s[..MaxLength] + "…" : s).Append('\''); break;
            case PyTuple t: Items(sb, t, t, "(", t.Count == 1 ? ",)" : ")", depth, open); break;
            case PyList l: Items(sb, l, l, "[", "]", depth, open); break;
            case PySet { Count: 0 } e: sb.Append(e.IsFrozen ? "frozenset()" : "set()"); break;
            case PySet e: Items(sb, e, e, e.IsFrozen ? "frozenset({" : "{", e.IsFrozen
                ? "})" : "}", depth, open); break;
            case PyDict d: Entries(sb, d, depth, open); break;
            default: sb.Append(Str(value)); break;
        }
    }

    private static void Items(System.Text.StringBuilder sb, object self, IReadOnlyList<object?> items, string start,
        string end, int depth, HashSet<object> open)
    {
        if (!open.Add(self)) { sb.Append(start[0] == '(' ? "(...)" : start[0] == '[' ? "[...]" : "{...}"); return; }
        sb.Append(start);
        if (depth >= MaxDepth && items.Count > 0) sb.Append('…');
        else
        {
            for (int i = 0; i < items.Count; i++)
            {
                if (i > 0) sb.Append(", ");
                if (sb.Length > MaxLength) { sb.Append('…'); break; }
                Append(sb, items[i], depth + 1, open);
            }
        }
        sb.Append(end);
        open.Remove(self);
    }

    private static void Entries(System.Text.StringBuilder sb, PyDict dict, int depth, HashSet<object> open)
    {
        if (!open.Add(dict)) { sb.Append("{...}"); return; }
        sb.Append('{');
        if (depth >= MaxDepth && dict.Count > 0) sb.Append('…');
        else
        {
            bool first = true;
            foreach (System.Collections.DictionaryEntry e in dict)
            {
                if (!first) sb.Append(", ");
                first = false;
                if (sb.Length > MaxLength) { sb.Append('…'); break; }
                Append(sb, e.Key, depth + 1, open);
                sb.Append(": ");
                Append(sb, e.Value, depth + 1, open);
            }
        }
        sb.Append('}');
        open.Remove(dict);
    }

    private static string Bytes(byte[] bytes)
    {
        var sb = new System.Text.StringBuilder("b'");
        foreach (byte b in bytes)
            sb.Append(b is >= 0x20 and < 0x7F and not (byte)'\\' and not (byte)'\'' ? ((char)b).ToString() : $"\\x{b:x2}");
        return sb.Append('\'').ToString();
    }

    /// <summary>Python's <c>repr(float)</c>: the shortest digits that round-trip, in fixed notation for decimal
    /// exponents from -4 to 15 and as <c>1e-05</c> / <c>1.5e+16</c> outside them (.NET switches at other
    /// points).</summary>
    /// <summary>Python's repr of a complex number: <c>(1.5-2j)</c>, <c>2j</c> with a real part of +0; its parts
    /// without the '.0' a float's repr adds.</summary>
    private static string Complex(System.Numerics.Complex c)
    {
        static string Part(double d) => Float(d) is var s && s.EndsWith(".0", StringComparison.Ordinal) ? s[..^2] : s;
        string imaginary = Part(Math.Abs(c.Imaginary)) + "j";
        if (c.Real == 0 && !double.IsNegative(c.Real)) return (double.IsNegative(c.Imaginary) ? "-" : "") + imaginary;
        return $"({Part(c.Real)}{(double.IsNegative(c.Imaginary) ? "-" : "+")}" +
            $"{imaginary})";
    }

    internal static string Float(double d)
    {
        if (double.IsNaN(d)) return "nan";
        if (double.IsInfinity(d)) return d > 0 ? "inf" : "-inf";
        if (d == 0) return double.IsNegative(d) ? "-0.0" : "0.0";
        // "R" gives the shortest digits that round-trip; the decimal exponent is read from the same text.
        string shortest = Math.Abs(d).ToString("R", CultureInfo.InvariantCulture);
        int ePos = shortest.IndexOf('E');
        string mantissa = ePos < 0 ? shortest : shortest[..ePos];
        int point = mantissa.IndexOf('.');
        string whole = point < 0 ? mantissa : mantissa[..point], fraction = point < 0 ? "" : mantissa[(point + 1)..];
        string all = whole + fraction;
        int lead = all.Length - all.TrimStart('0').Length;
        string digits = all.TrimStart('0').TrimEnd('0');
        int exponent = whole.Length - 1 - lead + (ePos < 0 ? 0 : int.Parse(shortest[(ePos + 1)..],
            NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture));
        if (digits.Length == 0) digits = "0";
        string sign = d < 0 ? "-" : "";
        if (exponent is >= -4 and < 16)
        {
            string fixedText = exponent >= 0
                ? (digits.Length > exponent + 1
                    ? digits[..(exponent + 1)] + "." + digits[(exponent + 1)..]
                    : digits.PadRight(exponent + 1, '0') + ".0")
                : "0." + new string('0', -exponent - 1) + digits;
            return sign + fixedText;
        }
        string m = digits.Length > 1 ? digits[0] + "." + digits[1..] : digits;
        return $"{sign}{m}e{(exponent < 0 ? '-' : '+')}{Math.Abs(exponent):00}";
    }
}
