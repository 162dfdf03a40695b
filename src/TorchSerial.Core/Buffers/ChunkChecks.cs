namespace TorchSerial.Buffers;

/// <summary>
/// What a read split into chunks (read on several threads, in any order) checks once every chunk is in: each
/// CRC-checked layer notes the CRC of its part of each chunk, and when a layer's parts cover its bytes whole they
/// combine into one CRC held to the recorded one. Parts that leave gaps (a slice read) check nothing, as a random
/// read checks nothing.
/// </summary>
internal sealed class ChunkChecks
{
    private readonly Dictionary<CrcCheckedBuffer, List<(long At, int Length, uint Crc)>> _parts =
        new(ReferenceEqualityComparer.Instance);

    public void Note(CrcCheckedBuffer layer, long at, int length, uint crc)
    {
        lock (_parts)
        {
            if (!_parts.TryGetValue(layer, out var parts)) _parts[layer] = parts = new();
            parts.Add((at, length, crc));
        }
    }

    /// <summary>Checks every layer whose parts cover it whole (throwing its CrcMismatch); returns the verified CRC when
    /// exactly one layer was checked.</summary>
    public uint? Complete()
    {
        uint? verified = null;
        int checkedLayers = 0;
        foreach (var (layer, parts) in _parts)
        {
            parts.Sort((a, b) => a.At.CompareTo(b.At));
            long next = 0;
            uint crc = 0;
            foreach (var (at, length, part) in parts)
            {
                if (at != next) break;
                crc = next == 0 ? part : Crc32Combine.Combine(crc, part, length);
                next += length;
            }
            if (next != layer.Length) continue;
            verified = layer.Verify(crc);
            checkedLayers++;
        }
        return checkedLayers == 1 ? verified : null;
    }
}
