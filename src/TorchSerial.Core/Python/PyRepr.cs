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
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    /// <summary>Python's <c>repr()</c>, shortened: nesting past a few levels and text past a few hundred characters become '…'.</summary>
    public static string Of(object? value)
    {
        var sb = new System.Text.StringBuilder();
        Append(sb, value, 0);
        return sb.ToString();
    }

    private const int MaxDepth = 6, MaxLength = 300;

    // Containers call back into this with a depth, so a pickle nested 200,000 levels deep renders as
    // '[[[[[[…]]]]]]' instead of overflowing the stack (which would kill the pwsh process).
    internal static void Append(System.Text.StringBuilder sb, object? value, int depth)
    {
        if (sb.Length > MaxLength) return;
        switch (value)
        {
            case string s: sb.Append('\'').Append(s.Length > MaxLength ? s[..MaxLength] + "…" : s).Append('\''); break;
            case PyTuple t: Sequence(sb, t, "(", t.Count == 1 ? ",)" : ")", depth); break;
            case PyList l: Sequence(sb, l, "[", "]", depth); break;
            default: sb.Append(Str(value)); break;
        }
    }

    private static void Sequence(System.Text.StringBuilder sb, IReadOnlyList<object?> items, string open, string close, int depth)
    {
        sb.Append(open);
        if (depth >= MaxDepth && items.Count > 0) sb.Append('…');
        else
        {
            for (int i = 0; i < items.Count; i++)
            {
                if (i > 0) sb.Append(", ");
                if (sb.Length > MaxLength) { sb.Append('…'); break; }
                Append(sb, items[i], depth + 1);
            }
        }
        sb.Append(close);
    }

    private static string Bytes(byte[] bytes)
    {
        var sb = new System.Text.StringBuilder("b'");
        foreach (byte b in bytes)
            sb.Append(b is >= 0x20 and < 0x7F and not (byte)'\\' and not (byte)'\'' ? ((char)b).ToString() : $"\\x{b:x2}");
        return sb.Append('\'').ToString();
    }

    private static string Float(double d)
    {
        if (double.IsNaN(d)) return "nan";
        if (double.IsInfinity(d)) return d > 0 ? "inf" : "-inf";
        var r = d.ToString("R", CultureInfo.InvariantCulture);
        return r.Contains('.') || r.Contains('E') ? r : r + ".0";
    }
}
