namespace TorchSerial.Pickle;

/// <summary>
/// The pickle memo: index → value. <see cref="Count"/> is the number of distinct indices set, which is what
/// MEMOIZE numbers by (CPython's len(memo)).
/// When the indices the pickle reads back are known (<see cref="MemoReadsScan"/>), only those keep their value,
/// in a small array (a dictionary where the indices are large), and the rest are only counted, one bit each: a
/// state_dict's pickle memoizes about five objects per tensor and reads back a handful in all. Otherwise
/// values live in an array that grows with
/// the indices in order; an index far past those seen (crafted files) goes to a dictionary instead, so no index
/// can force a large allocation.
/// </summary>
internal sealed class PickleMemo
{
    private static readonly object Missing = new();
    private const long DenseKeptLimit = 4096;
    private readonly MemoReads? _reads;
    private readonly Dictionary<long, object?> _kept = new();
    // Kept values by index where the indices read are few and small (a state_dict's: the storage class, the rebuild
    // function, "storage", "cpu"), in place of the dictionary: a lookup each on every memo read.
    private readonly object?[]? _keptDense;
    private object?[]? _dense;
    private ulong[] _seen = new ulong[16];
    private HashSet<long>? _seenFar;

    /// <param name="reads">The indices the pickle ever reads back; null keeps every value.</param>
    public PickleMemo(MemoReads? reads = null)
    {
        _reads = reads;
        if (reads is { Max: >= 0 and < DenseKeptLimit })
        {
            _keptDense = new object?[reads.Max + 1];
            Array.Fill(_keptDense, Missing);
        }
        if (reads is null)
        {
            _dense = new object?[64];
            Array.Fill(_dense, Missing);
        }
    }

    public long Count { get; private set; }

    /// <summary>Whether a value set at <paramref name="index"/> is kept (it may be read back later).</summary>
    public bool Keeps(long index) => _dense is not null || _reads!.Contains(index);

    public void Set(long index, object? value)
    {
        if (_dense is null)
        {
            if (MarkSeen(index)) Count++;
            if (!_reads!.Contains(index)) return;
            if (_keptDense is not null && index >= 0 && index < _keptDense.Length) _keptDense[index] = value;
            else _kept[index] = value;
            return;
        }
        if (index >= 0 && index < _dense.Length)
        {
            if (ReferenceEquals(_dense[index], Missing)) Count++;
            _dense[index] = value;
            return;
        }
        // Grow only for the next indices in order; anything else is rare enough for a dictionary.
        if (index >= 0 && index < _dense.Length * 2L && index <= Count + 1024)
        {
            int old = _dense.Length;
            Array.Resize(ref _dense, old * 2);
            Array.Fill(_dense, Missing, old, old);
            Set(index, value);
            return;
        }
        if (!_kept.ContainsKey(index)) Count++;
        _kept[index] = value;
    }

    public bool TryGet(long index, out object? value)
    {
        value = null;
        if (_dense is not null && index >= 0 && index < _dense.Length && !ReferenceEquals(_dense[index], Missing))
        {
            value = _dense[index];
            return true;
        }
        if (_keptDense is not null && index >= 0 && index < _keptDense.Length)
        {
            value = _keptDense[index];
            if (!ReferenceEquals(value, Missing)) return true;
            value = null;
        }
        else if (_kept.TryGetValue(index, out value)) return true;
        // The scan and the VM read the pickle one way, so an entry set but not kept is never read; if one is, they
        // disagree.
        if (_dense is null && IsSeen(index))
            throw new InvalidOperationException($"Memo entry {index} is read, but the scan of the pickle found no read of it.");
        return false;
    }

    /// <summary>Marks an index as set; true the first time.</summary>
    private bool MarkSeen(long index)
    {
        if (index < 0 || index >= 1L << 26) return (_seenFar ??= new HashSet<long>()).Add(index);
        int word = (int)(index >> 6);
        if (word >= _seen.Length)
        {
            if (word > _seen.Length * 2 && index > Count + 4096) return (_seenFar ??= new HashSet<long>()).Add(index);
            Array.Resize(ref _seen, Math.Max(word + 1, _seen.Length * 2));
        }
        ulong bit = 1UL << (int)(index & 63);
        if ((_seen[word] & bit) != 0) return false;
        _seen[word] |= bit;
        return true;
    }

    private bool IsSeen(long index)
    {
        if (index < 0 || index >= 1L << 26 || (index >> 6) >= _seen.Length) return _seenFar?.Contains(index) == true;
        return (_seen[index >> 6] & (1UL << (int)(index & 63))) != 0 || _seenFar?.Contains(index) == true;
    }
}
