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

    /// <summary>Python's <c>repr()</c> for the simple values that appear inside tuples.</summary>
    public static string Of(object? value) => value is string s ? "'" + s + "'" : Str(value);

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
