using System.Collections;
using System.Text.RegularExpressions;
using TorchSerial.Errors;
using TorchSerial.Python;
using TorchSerial.Tensors;

namespace TorchSerial.Toolbox;

/// <summary>
/// Renames tensors by a rule (a regex replacement or an exact map): piped tensors one by one, or a whole state_dict,
/// whose <c>_metadata</c> keys (the module prefixes load_state_dict reads versions from) follow the same rule. Two
/// names that end up equal are an error, never a silent overwrite.
/// </summary>
public sealed class TensorRenamer
{
    private readonly Func<string, string> _rule;
    private readonly Dictionary<string, string> _taken = new(StringComparer.Ordinal);

    private TensorRenamer(Func<string, string> rule) => _rule = rule;

    /// <summary>A rule that replaces every match of <paramref name="pattern"/> (a .NET regex) by <paramref
    /// name="replacement"/>.</summary>
    public static TensorRenamer FromPattern(string pattern, string replacement)
    {
        var regex = new Regex(pattern, RegexOptions.CultureInvariant);
        return new TensorRenamer(name => regex.Replace(name, replacement));
    }

    /// <summary>A rule that renames the names a map lists, exactly, and leaves the others.</summary>
    public static TensorRenamer FromMap(IReadOnlyDictionary<string, string> map)
        => new(name => map.TryGetValue(name, out var to) ? to : name);

    /// <summary>The new name of one name.</summary>
    public string Apply(string name) => _rule(name);

    /// <summary>
    /// The tensor under its new name (a copy sharing the storage), checking it against every name this renamer gave
    /// before, so a stream of piped tensors cannot collide.
    /// </summary>
    public Tensor Rename(Tensor tensor)
    {
        string to = _rule(tensor.Name);
        if (_taken.TryGetValue(to, out var from) && from != tensor.Name)
            throw Collision(to, from, tensor.Name);
        _taken[to] = tensor.Name;
        return to == tensor.Name ? tensor : tensor.WithName(to);
    }

    /// <summary>A new dict with every string key renamed (tensors renamed with it) and its <c>_metadata</c> keys
    /// too.</summary>
    public PyDict RenameDict(IDictionary dict)
    {
        var result = new PyDict { PythonType = dict is PyDict p ? p.PythonType : "collections.OrderedDict" };
        var sources = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry e in dict)
        {
            if (e.Key is not string key) { result.Add(e.Key, e.Value); continue; }
            string to = _rule(key);
            if (sources.TryGetValue(to, out var from)) throw Collision(to, from, key);
            sources[to] = key;
            result.Add(to, e.Value is Tensor t && t.Name != to ? t.WithName(to) : e.Value);
        }
        if (dict is PyDict { State: PyDict state }) result.State = RenameMetadata(state);
        else if (dict is PyDict { State: { } other }) result.State = other;
        return result;
    }

    private PyDict RenameMetadata(PyDict state)
    {
        var copy = new PyDict { PythonType = state.PythonType };
        foreach (DictionaryEntry e in state)
        {
            if (e.Key is "_metadata" && e.Value is PyDict meta)
            {
                var renamed = new PyDict { PythonType = meta.PythonType };
                foreach (DictionaryEntry m in meta)
                    renamed.SetItem(m.Key is string prefix && prefix.Length > 0 ? _rule(prefix) : m.Key, m.Value);
                copy.Add(e.Key, renamed);
            }
            else copy.Add(e.Key, e.Value);
        }
        return copy;
    }

    private static TorchSerialException Collision(string to, string first, string second)
        => new(ErrorIds.TensorNameCollision, ErrorKind.InvalidData,
            $"Renaming would give two tensors the name '{to}' ('{first}' and '{second}'); change the rule so names " +
                $"stay unique.");
}
