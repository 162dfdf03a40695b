namespace TorchSerial.Pickle;

/// <summary>
/// The pickle memo: index → value. Picklers number entries 0, 1, 2, … so they live in a growing array; an index
/// far past the ones seen (crafted files) goes to a dictionary instead, so no index can force a large allocation.
/// <see cref="Count"/> is the number of distinct indices, which is what MEMOIZE numbers by (CPython's len(memo)).
/// </summary>
internal sealed class PickleMemo
{
    private static readonly object Missing = new();
    private object?[] _dense = new object?[64];
    private Dictionary<long, object?>? _sparse;

    public PickleMemo() => Array.Fill(_dense, Missing);

    public long Count { get; private set; }

    public void Set(long index, object? value)
    {
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
        _sparse ??= new Dictionary<long, object?>();
        if (!_sparse.ContainsKey(index)) Count++;
        _sparse[index] = value;
    }

    public bool TryGet(long index, out object? value)
    {
        if (index >= 0 && index < _dense.Length && !ReferenceEquals(_dense[index], Missing))
        {
            value = _dense[index];
            return true;
        }
        value = null;
        return _sparse is not null && _sparse.TryGetValue(index, out value);
    }
}
