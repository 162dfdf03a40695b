namespace TorchSerial.Pickle;

/// <summary>
/// The set of memo indices a pickle reads back (<see cref="MemoReadsScan"/>), asked on every memo write: small
/// indices are bits (a hash lookup per write and per read was a measurable share of a state_dict's load, at eight
/// writes a tensor), and any index past that range, which only a crafted pickle has, goes to a hash set.
/// </summary>
internal sealed class MemoReads
{
    private const long BitLimit = 1L << 22; // 512 KiB of bits at most
    private ulong[] _bits = new ulong[4];
    private HashSet<long>? _far;

    /// <summary>The largest index read (−1 when none).</summary>
    public long Max { get; private set; } = -1;

    public void Add(long index)
    {
        if (index > Max) Max = index;
        if (index < 0 || index >= BitLimit)
        {
            (_far ??= new HashSet<long>()).Add(index);
            return;
        }
        int word = (int)(index >> 6);
        if (word >= _bits.Length) Array.Resize(ref _bits, Math.Max(word + 1, _bits.Length * 2));
        _bits[word] |= 1UL << (int)(index & 63);
    }

    /// <summary>The indices, smallest first.</summary>
    public IEnumerable<long> Indices()
    {
        var far = _far?.Order().ToList() ?? new List<long>();
        foreach (long i in far.Where(i => i < 0)) yield return i;
        for (int word = 0; word < _bits.Length; word++)
            for (int bit = 0; bit < 64; bit++)
                if ((_bits[word] & (1UL << bit)) != 0) yield return word * 64L + bit;
        foreach (long i in far.Where(i => i >= 0)) yield return i;
    }

    public static MemoReads Of(params long[] indices)
    {
        var reads = new MemoReads();
        foreach (long i in indices) reads.Add(i);
        return reads;
    }

    public bool Contains(long index)
    {
        if (index < 0 || index >= BitLimit) return _far?.Contains(index) == true;
        int word = (int)(index >> 6);
        return word < _bits.Length && (_bits[word] & (1UL << (int)(index & 63))) != 0;
    }
}
