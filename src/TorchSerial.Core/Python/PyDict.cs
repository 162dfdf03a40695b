using System.Collections;
using System.Collections.Specialized;

namespace TorchSerial.Python;

/// <summary>
/// A Python <c>dict</c> or <c>collections.OrderedDict</c>. Both keep insertion order (Python 3.7+
/// dicts are ordered), so both map onto an ordered <see cref="IDictionary"/>. Keys compare the way
/// Python compares them for the key types a checkpoint can hold (str, int, tuple, …).
/// </summary>
public sealed class PyDict : OrderedDictionary
{
    public PyDict() : base(PyKeyComparer.Instance) { }

    /// <summary>The Python class: <c>builtins.dict</c>, <c>collections.OrderedDict</c> or a subclass admitted by policy.</summary>
    public string PythonType { get; init; } = "builtins.dict";

    /// <summary>True for an <c>OrderedDict</c> (state_dicts are).</summary>
    public bool IsOrderedDict => PythonType == "collections.OrderedDict";

    /// <summary>
    /// Instance attributes set by a pickle BUILD, e.g. a state_dict's <c>_metadata</c>; null when none.
    /// Kept so that a later save can write them back.
    /// </summary>
    public object? State { get; set; }

    /// <summary>Sets a key the way Python's <c>d[k] = v</c> does: an existing key keeps its position.</summary>
    public void SetItem(object key, object? value)
    {
        if (Contains(key)) this[key] = value; else Add(key, value);
    }
}

/// <summary>Python equality for hashable keys: 1 == 1.0 == True, tuples compare element-wise.</summary>
internal sealed class PyKeyComparer : IEqualityComparer
{
    public static readonly PyKeyComparer Instance = new();

    public new bool Equals(object? x, object? y)
    {
        if (x is null || y is null) return x is null && y is null;
        if (IsNumber(x) && IsNumber(y)) return ToDouble(x) == ToDouble(y) && ToBig(x, y);
        if (x is PyTuple tx && y is PyTuple ty)
        {
            if (tx.Count != ty.Count) return false;
            for (int i = 0; i < tx.Count; i++) if (!Equals(tx[i], ty[i])) return false;
            return true;
        }
        if (x is byte[] bx && y is byte[] by) return bx.AsSpan().SequenceEqual(by);
        return x.Equals(y);
    }

    public int GetHashCode(object obj) => obj switch
    {
        bool b => b ? 1 : 0,
        long or int or System.Numerics.BigInteger or double => ToDouble(obj).GetHashCode(),
        PyTuple t => t.Aggregate(17, (h, o) => h * 31 + (o is null ? 0 : GetHashCode(o))),
        byte[] b => b.Length,
        _ => obj.GetHashCode(),
    };

    private static bool IsNumber(object o) => o is bool or long or int or double or System.Numerics.BigInteger;

    private static double ToDouble(object o) => o switch
    {
        bool b => b ? 1 : 0,
        long l => l,
        int i => i,
        double d => d,
        System.Numerics.BigInteger b => (double)b,
        _ => double.NaN,
    };

    // Two huge integers can round to the same double; compare them exactly.
    private static bool ToBig(object x, object y)
        => x is double || y is double || AsBig(x) == AsBig(y);

    private static System.Numerics.BigInteger AsBig(object o) => o switch
    {
        bool b => b ? 1 : 0,
        long l => l,
        int i => i,
        System.Numerics.BigInteger b => b,
        _ => 0,
    };
}
