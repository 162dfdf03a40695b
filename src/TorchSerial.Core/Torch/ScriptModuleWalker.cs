using TorchSerial.Python;
using TorchSerial.Tensors;

namespace TorchSerial.Torch;

/// <summary>
/// Names the tensors of a TorchScript module tree as <c>module.state_dict()</c> does: for each module its parameters
/// (in <c>__parameters__</c> order, None skipped), then its buffers, then each submodule in attribute order, under
/// the dotted attribute path. A module reachable by two paths is listed under both, as state_dict lists tied modules;
/// a module that contains itself is walked once per path and never looped.
/// </summary>
internal static class ScriptModuleWalker
{
    public static List<KeyValuePair<string, Tensor>> StateDict(object? root, IReadOnlyDictionary<string,
        ScriptModuleClass> classes)
    {
        var result = new List<KeyValuePair<string, Tensor>>();
        var seen = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        var ancestors = new HashSet<PyObject>(ReferenceEqualityComparer.Instance);
        // An explicit stack: a module tree is shallow, but a crafted one need not be.
        var stack = new Stack<(PyObject Module, string Prefix, bool Leaving)>();
        if (root is PyObject top && classes.ContainsKey(top.Type.FullName)) stack.Push((top, "", false));
        while (stack.Count > 0)
        {
            var (module, prefix, leaving) = stack.Pop();
            if (leaving) { ancestors.Remove(module); continue; }
            if (!ancestors.Add(module)) continue;
            stack.Push((module, prefix, true));
            var cls = classes[module.Type.FullName];
            var state = module.State as PyDict;
            if (state is null) continue;
            foreach (var name in cls.Parameters.Concat(cls.Buffers))
            {
                if (state[name] is not Tensor t) continue;
                var named = seen.Add(t) ? t : t.WithName("");
                named.Name = prefix + name;
                if (cls.Parameters.Contains(name)) named.IsParameter = true;
                result.Add(new(named.Name, named));
            }
            var children = new List<(PyObject, string)>();
            foreach (System.Collections.DictionaryEntry e in state)
                if (e.Value is PyObject child && classes.ContainsKey(child.Type.FullName) && e.Key is string key)
                    children.Add((child, prefix + key + "."));
            for (int i = children.Count - 1; i >= 0; i--) stack.Push((children[i].Item1, children[i].Item2, false));
        }
        return result;
    }
}
