using System.Collections;
using System.Globalization;
using TorchSerial.Errors;
using TorchSerial.Python;
using TorchSerial.Reading;
using TorchSerial.Tensors;
using TorchSerial.Torch;

namespace TorchSerial.Toolbox;

/// <summary>
/// Picks a sub-object of a loaded checkpoint by a dotted key path (<c>model</c>, <c>state_dict</c>,
/// <c>model.module</c>, <c>optimizer.state.0</c>), and lists its tensors with names relative to it, which is what
/// <c>model.load_state_dict(ckpt["model"])</c> expects. Keys may themselves hold dots: at each level the longest
/// run of path segments that is a key wins. In a flat dict of dotted names (a safetensors file, a set), a path
/// that is no key selects the entries under it as a prefix (<c>model.</c>), with the prefix removed.
/// </summary>
public static class SubObject
{
    /// <summary>The sub-object at <paramref name="keyPath"/> of a checkpoint, where a first segment may also name one
    /// of its <see cref="Checkpoint.Alternates"/> (a key of the root wins).</summary>
    public static object? Select(Checkpoint checkpoint, string keyPath)
    {
        string first = keyPath.Split('.')[0];
        if (checkpoint.Alternates.TryGetValue(first, out var alternate)
            && !(checkpoint.Root is IDictionary d && TryGet(d, keyPath, out _)))
            return Select(alternate, keyPath.Length > first.Length ? keyPath[(first.Length + 1)..] : "");
        return Select(checkpoint.Root, keyPath);
    }

    public static object? Select(object? root, string keyPath)
    {
        if (string.IsNullOrEmpty(keyPath)) return root;
        var parts = keyPath.Split('.');
        object? current = root;
        int i = 0;
        while (i < parts.Length)
        {
            string where = i == 0 ? "the top level" : $"'{string.Join('.', parts[..i])}'";
            switch (Members(current))
            {
                case IDictionary dict:
                    int j = parts.Length;
                    for (; j > i; j--)
                        if (TryGet(dict, string.Join('.', parts[i..j]), out var value)) { current = value; break; }
                    if (j > i) { i = j; continue; }
                    var prefixed = UnderPrefix(dict, string.Join('.', parts[i..]) + ".");
                    if (prefixed.Count > 0) return prefixed;
                    throw Missing(keyPath, string.Join('.', parts[i..]), where, dict.Keys.Cast<object>().Select(k
                        => PyRepr.Str(k)));
                case IList list when int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture,
                    out int index):
                    if (index >= list.Count)
                        throw Missing(keyPath, parts[i], where, new[] { $"indexes 0 to {list.Count - 1}" });
                    current = list[index];
                    i++;
                    continue;
                default:
                    throw Missing(keyPath, parts[i], where, new[] { $"none: it is {Describe(current)}" });
            }
        }
        return current;
    }

    /// <summary>The tensors of a sub-object, depth-first, named by their paths inside it (the checkpoint's own tensors
    /// keep their names).</summary>
    public static IReadOnlyList<Tensor> Tensors(object? subObject) => TensorCollector.Collect(subObject, rename: false);

    /// <summary>What a path can step into: a dict, a list or tuple, or an inert object's attributes.</summary>
    private static object? Members(object? value) => value switch
    {
        IDictionary d => d,
        PyList or PyTuple => value,
        PyObject { State: IDictionary state } => state,
        _ => null,
    };

    private static bool TryGet(IDictionary dict, string key, out object? value)
    {
        if (dict.Contains(key)) { value = dict[key]; return true; }
        // Optimizer state is keyed by parameter number: state.0 names the int key 0.
        if (long.TryParse(key, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long n)
            && dict.Contains(n))
        {
            value = dict[n];
            return true;
        }
        value = null;
        return false;
    }

    private static PyDict UnderPrefix(IDictionary dict, string prefix)
    {
        var result = new PyDict { PythonType = "collections.OrderedDict" };
        foreach (DictionaryEntry e in dict)
            if (e.Key is string k && k.StartsWith(prefix, StringComparison.Ordinal) && k.Length > prefix.Length)
                result.Add(k[prefix.Length..], e.Value);
        return result;
    }

    private static string Describe(object? value) => value switch
    {
        null => "None",
        Tensor t => $"a tensor ({t})",
        _ => $"a {value.GetType().Name}",
    };

    private static TorchSerialException Missing(string path, string key, string where, IEnumerable<string> keys)
    {
        var list = keys.Take(21).ToList();
        string shown = string.Join(", ", list.Take(20)) + (list.Count > 20 ? ", …" : "");
        return new TorchSerialException(ErrorIds.KeyNotFound, ErrorKind.ObjectNotFound,
            $"The checkpoint has no key '{key}' at {where} (looking up '{path}'). The keys there: {shown}.");
    }
}
