using TorchSerial.Python;

namespace TorchSerial.Pickle;

/// <summary>
/// Tuples of ints shared by content within one pickle: every tensor's sizes and strides are such a tuple, and most
/// of a checkpoint's tensors repeat a few shapes. A tuple is immutable, so sharing one changes nothing a reader
/// can see but identity, which a pickle only expresses through its memo (and a memo read still gets the very tuple
/// it named). A small direct-mapped cache: a miss costs what building the tuple did.
/// </summary>
internal sealed class IntTuples
{
    private const int MaxLength = 8, Slots = 256;
    private readonly object?[]?[] _items = new object?[Slots][];
    private readonly PyTuple?[] _tuples = new PyTuple?[Slots];

    /// <summary>A tuple of <paramref name="items"/>: a cached one where they are all ints seen before in this
    /// order.</summary>
    public PyTuple Of(ReadOnlySpan<object?> items)
    {
        if (items.Length is 0 or > MaxLength) return new PyTuple(items.ToArray());
        ulong h = (ulong)items.Length;
        foreach (var o in items)
        {
            if (o is not long v) return new PyTuple(items.ToArray());
            h = (h ^ (ulong)v) * 0x9E3779B97F4A7C15UL;
        }
        int slot = (int)(h >> 56);
        if (_items[slot] is { } seen && Same(seen, items)) return _tuples[slot]!;
        var copy = items.ToArray();
        _items[slot] = copy;
        return _tuples[slot] = new PyTuple(copy);
    }

    private static bool Same(object?[] seen, ReadOnlySpan<object?> items)
    {
        if (seen.Length != items.Length) return false;
        for (int i = 0; i < seen.Length; i++)
            if ((long)seen[i]! != (long)items[i]!) return false;
        return true;
    }
}
