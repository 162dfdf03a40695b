using System.Globalization;

namespace TorchSerial.Buffers.Remote;

/// <summary>
/// A <c>Content-Range</c> header, <c>bytes first-last/total</c> or <c>bytes */total</c> (on a 416), read leniently as
/// to case and spacing (servers differ) and strictly as to numbers.
/// </summary>
internal readonly record struct ContentRange(long First, long Last, long Total)
{
    /// <summary>True for the <c>*/total</c> form, which names no range.</summary>
    public bool Unsatisfied => First < 0;

    public static ContentRange? Parse(string? header)
    {
        if (header is null) return null;
        var text = header.Trim();
        if (!text.StartsWith("bytes", StringComparison.OrdinalIgnoreCase)) return null;
        text = text[5..].Trim();
        int slash = text.IndexOf('/');
        if (slash < 0 || !long.TryParse(text[(slash + 1)..].Trim(), NumberStyles.None, CultureInfo.InvariantCulture,
            out long total)) return null;
        var range = text[..slash].Trim();
        if (range == "*") return new ContentRange(-1, -1, total);
        int dash = range.IndexOf('-');
        if (dash < 0
            || !long.TryParse(range[..dash].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out long first)
            || !long.TryParse(range[(dash + 1)..].Trim(), NumberStyles.None, CultureInfo.InvariantCulture,
                out long last)
            || last < first || last >= total) return null;
        return new ContentRange(first, last, total);
    }
}
