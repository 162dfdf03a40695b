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

    /// <summary>A dict of string keys in the order given (a later duplicate key sets the earlier entry, as in Python).</summary>
    public static PyDict FromPairs<T>(IEnumerable<KeyValuePair<string, T>> pairs)
    {
        var d = new PyDict();
        foreach (var (k, v) in pairs) d.SetItem(k, v);
        return d;
    }

    /// <summary>Python's repr, shortened (so a nested dict shows its contents, not its .NET type name).</summary>
    public override string ToString() => PyRepr.Of(this);

    /// <summary>Sets a key the way Python's <c>d[k] = v</c> does: an existing key keeps its position.</summary>
    public void SetItem(object key, object? value)
    {
        if (Contains(key)) this[key] = value; else Add(key, value);
    }
}
