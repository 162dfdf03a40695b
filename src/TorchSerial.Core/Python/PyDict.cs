using System.Collections;

namespace TorchSerial.Python;

/// <summary>
/// A Python <c>dict</c> or <c>collections.OrderedDict</c>. Both keep insertion order (Python 3.7+
/// dicts are ordered), so both map onto an ordered <see cref="IDictionary"/>. Keys compare the way
/// Python compares them for the key types a checkpoint can hold (str, int, tuple, …).
/// </summary>
/// <remarks>
/// Its own table, not an <c>OrderedDictionary</c>: a checkpoint holds one dict a tensor (the empty backward hooks)
/// and a root of many thousand keys, and OrderedDictionary boxes an entry per key beside its hash table's bucket.
/// Here one slot array in insertion order holds each key, value and hash; a small dict scans it, a larger one
/// chains the slots from a bucket array. A removed key leaves a hole that enumeration skips until it is compacted.
/// </remarks>
public sealed partial class PyDict : IDictionary
{
    private const int ScanLimit = 8; // up to this many slots, a lookup scans them and no buckets are kept

    private struct Slot
    {
        public object? Key; // Hole for a removed key
        public object? Value;
        public int Hash;
        public int Next; // the next slot in this bucket's chain, plus one (0 ends it)
    }

    private static readonly object Hole = new();
    private Slot[] _slots = [];
    private int[]? _buckets; // the first slot of each chain, plus one
    private int _used; // slots taken, holes included
    private int _count;
    private int _version;

    public PyDict() { }

    /// <summary>The Python class: <c>builtins.dict</c>, <c>collections.OrderedDict</c> or a subclass admitted by
    /// policy.</summary>
    public string PythonType { get; init; } = "builtins.dict";

    /// <summary>True for an <c>OrderedDict</c> (state_dicts are).</summary>
    public bool IsOrderedDict => PythonType == "collections.OrderedDict";

    /// <summary>
    /// Instance attributes set by a pickle BUILD, e.g. a state_dict's <c>_metadata</c>; null when none.
    /// Kept so that a later save can write them back.
    /// </summary>
    public object? State { get; set; }

    /// <summary>A dict of string keys in the order given (a later duplicate key sets the earlier entry, as in
    /// Python).</summary>
    public static PyDict FromPairs<T>(IEnumerable<KeyValuePair<string, T>> pairs)
    {
        var d = new PyDict();
        foreach (var (k, v) in pairs) d.SetItem(k, v);
        return d;
    }

    /// <summary>Python's repr, shortened (so a nested dict shows its contents, not its .NET type name).</summary>
    public override string ToString() => PyRepr.Of(this);

    /// <summary>What Python's <c>json.dumps(obj, indent=2)</c> writes for it (ConvertTo-Json refuses a dict with int
    /// keys, such as an optimizer's state).</summary>
    public string ToJson() => JsonDumps.Of(this, 2);

    /// <summary>json.dumps with this <paramref name="indent"/>; null is its one-line form.</summary>
    public string ToJson(int? indent) => JsonDumps.Of(this, indent);

    /// <summary>Sets a key the way Python's <c>d[k] = v</c> does: an existing key keeps its position.</summary>
    public void SetItem(object key, object? value)
    {
        int hash = HashOf(key), at = Find(key, hash);
        if (at >= 0) { _slots[at].Value = value; _version++; }
        else Append(key, value, hash);
    }

    public int Count => _count;

    public object? this[object key]
    {
        get { int at = Find(key, HashOf(key)); return at >= 0 ? _slots[at].Value : null; }
        set => SetItem(key, value);
    }

    public void Add(object key, object? value)
    {
        int hash = HashOf(key);
        if (Find(key, hash) >= 0)
            throw new ArgumentException($"The dict already holds the key {PyRepr.Of(key)}.", nameof(key));
        Append(key, value, hash);
    }

    public bool Contains(object key) => Find(key, HashOf(key)) >= 0;

    public void Remove(object key)
    {
        int at = Find(key, HashOf(key));
        if (at < 0) return;
        _slots[at].Key = Hole;
        _slots[at].Value = null;
        _count--;
        _version++;
        if (_count == 0) Clear();
        else if (_used - _count > _used / 2) Rebuild(_slots.Length); // mostly holes: compact
    }

    public void Clear()
    {
        _slots = [];
        _buckets = null;
        _used = _count = 0;
        _version++;
    }

    public ICollection Keys => new View(this, keys: true);

    public ICollection Values => new View(this, keys: false);

    public bool IsReadOnly => false;

    public bool IsFixedSize => false;

    public bool IsSynchronized => false;

    public object SyncRoot => this;

    public void CopyTo(Array array, int index)
    {
        ArgumentNullException.ThrowIfNull(array);
        if (index < 0 || array.Length - index < _count) throw new ArgumentOutOfRangeException(nameof(index));
        for (int i = 0; i < _used; i++)
            if (!ReferenceEquals(_slots[i].Key, Hole))
                array.SetValue(new DictionaryEntry(_slots[i].Key!, _slots[i].Value), index++);
    }

    public IDictionaryEnumerator GetEnumerator() => new Enumerator(this, Enumerator.Yield.Entries);

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private static int HashOf(object key)
    {
        ArgumentNullException.ThrowIfNull(key); // Python's None is PyNone.Key here
        return PyKeyComparer.Instance.GetHashCode(key);
    }

    private int Find(object key, int hash)
    {
        var slots = _slots;
        if (_buckets is null)
        {
            for (int i = 0; i < _used; i++)
                if (slots[i].Hash == hash && KeyEquals(slots[i].Key, key)) return i;
            return -1;
        }
        for (int i = _buckets[hash & (_buckets.Length - 1)] - 1; i >= 0; i = slots[i].Next - 1)
            if (slots[i].Hash == hash && KeyEquals(slots[i].Key, key)) return i;
        return -1;
    }

    private static bool KeyEquals(object? slotKey, object key)
        => ReferenceEquals(slotKey, key)
            || (!ReferenceEquals(slotKey, Hole) && PyKeyComparer.Instance.Equals(slotKey, key));

    private void Append(object key, object? value, int hash)
    {
        if (_used == _slots.Length) Rebuild(Math.Max(4, _count * 2));
        int at = _used++;
        _slots[at] = new Slot { Key = key, Value = value, Hash = hash };
        _count++;
        _version++;
        if (_buckets is not null) Link(at);
        else if (_used > ScanLimit) Chain();
    }

    /// <summary>New slots of <paramref name="capacity"/> (a power of two), holes dropped, and buckets past the scan
    /// limit.</summary>
    private void Rebuild(int capacity)
    {
        capacity = (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Math.Max(capacity, _count));
        var old = _slots;
        _slots = new Slot[capacity];
        int n = 0;
        for (int i = 0; i < _used; i++)
            if (!ReferenceEquals(old[i].Key, Hole)) _slots[n++] = old[i];
        _used = n;
        _buckets = null;
        if (n > ScanLimit) Chain();
    }

    /// <summary>A bucket array over the slots as they are: from here on, lookups hash instead of scanning.</summary>
    private void Chain()
    {
        _buckets = new int[_slots.Length];
        for (int i = 0; i < _used; i++) Link(i);
    }

    private void Link(int at)
    {
        ref int head = ref _buckets![_slots[at].Hash & (_buckets.Length - 1)];
        _slots[at].Next = head;
        head = at + 1;
    }
}
