using System.Globalization;
using System.Text.RegularExpressions;

namespace TorchSerial.PowerShell.Commands;

/// <summary>
/// Reads a shard size as huggingface_hub does: decimal units (KB = 1,000 … TB = 10^12), plus the binary ones
/// (KiB = 1,024 …) for those who mean them; a bare number is bytes.
/// </summary>
internal static class ShardSize
{
    private static readonly Regex Pattern = new(@"^\s*(\d+(?:\.\d+)?)\s*([KMGT]i?B|B)?\s*$",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);

    public static long Parse(string text)
    {
        var m = Pattern.Match(text);
        if (!m.Success)
            throw new FormatException($"'{text}' is not a size; give bytes (100000000) or a size with a unit " +
                $"('100MB', '5GB', '512MiB').");
        double value = double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
        string unit = m.Groups[2].Success ? m.Groups[2].Value.ToUpperInvariant() : "B";
        double scale = unit switch
        {
            "KB" => 1e3, "MB" => 1e6, "GB" => 1e9, "TB" => 1e12,
            "KIB" => 1024d, "MIB" => 1024d * 1024, "GIB" => 1024d * 1024 * 1024, "TIB" => 1024d * 1024 * 1024 * 1024,
            _ => 1,
        };
        double bytes = Math.Floor(value * scale);
        if (bytes < 1 || bytes > long.MaxValue) throw new FormatException($"The shard size '{text}' is out of range.");
        return (long)bytes;
    }
}
