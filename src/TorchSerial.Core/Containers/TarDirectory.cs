using TorchSerial.Errors;
using System.Text;

namespace TorchSerial.Containers;

/// <summary>The members of an uncompressed (ustar or v7) tar archive: name → data offset and size.</summary>
internal sealed class TarDirectory
{
    private readonly Dictionary<string, (long Offset, long Size)> _members = new(StringComparer.Ordinal);

    public IReadOnlyCollection<string> Names => _members.Keys;

    public (long Offset, long Size)? Find(string name) => _members.TryGetValue(name, out var m) ? m : null;

    /// <summary>True when the 512-byte block is a tar header with a valid checksum (torch tries tarfile the same
    /// way).</summary>
    public static bool IsHeader(ReadOnlySpan<byte> block)
    {
        if (block.Length < 512 || block[0] == 0) return false;
        if (!TryOctal(block.Slice(148, 8), out long stored)) return false;
        long sum = 0;
        for (int i = 0; i < 512; i++) sum += i is >= 148 and < 156 ? (byte)' ' : block[i];
        return sum == stored;
    }

    public static TarDirectory Read(Stream stream)
    {
        var dir = new TarDirectory();
        var block = new byte[512];
        long pos = 0, length = stream.Length;
        while (pos + 512 <= length)
        {
            lock (stream) { stream.Position = pos; stream.ReadExactly(block); }
            if (block.All(b => b == 0)) break;
            if (!IsHeader(block))
                throw Fail.Data(ErrorIds.CorruptTar, $"The tar archive has a damaged header at offset {pos}.");
            string name = CString(block.AsSpan(0, 100));
            string prefix = Encoding.ASCII.GetString(block, 257, 6).StartsWith("ustar", StringComparison.Ordinal)
                ? CString(block.AsSpan(345, 155)) : "";
            if (prefix.Length > 0) name = prefix + "/" + name;
            if (!TryOctal(block.AsSpan(124, 12), out long size) || size < 0)
                throw Fail.Data(ErrorIds.CorruptTar, $"The tar member '{name}' has an invalid size field.");
            long data = pos + 512;
            if (data + size > length)
                throw Fail.Data(ErrorIds.CorruptTar, $"The tar member '{name}' claims {size} bytes but the file ends first: the file is truncated.");
            byte type = block[156];
            if (type is (byte)'0' or 0) dir._members[name.TrimStart('.', '/')] = (data, size);
            pos = data + (size + 511) / 512 * 512;
        }
        return dir;
    }

    private static string CString(ReadOnlySpan<byte> field)
    {
        int n = field.IndexOf((byte)0);
        return Encoding.UTF8.GetString(n < 0 ? field : field[..n]);
    }

    private static bool TryOctal(ReadOnlySpan<byte> field, out long value)
    {
        value = 0;
        bool any = false;
        foreach (byte b in field)
        {
            if (b is 0 or (byte)' ') { if (any) break; continue; }
            if (b is < (byte)'0' or > (byte)'7') return false;
            if (value > (long.MaxValue >> 3)) return false;
            value = value * 8 + (b - '0');
            any = true;
        }
        return any;
    }
}
