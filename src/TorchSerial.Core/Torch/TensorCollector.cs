using TorchSerial.Pickle;
using TorchSerial.Errors;
using TorchSerial.Python;
using TorchSerial.Tensors;
using System.Collections;

namespace TorchSerial.Torch;

/// <summary>
/// Walks a loaded object depth-first in file order (dict insertion order, list order) and lists its
/// tensors under their key paths. It uses an explicit stack, so any nesting depth is safe, and it
/// remembers containers it has seen, so pickled cycles cannot loop.
/// </summary>
internal static class TensorCollector
{
    /// <param name="root">The loaded object.</param>
    /// <param name="expected">About how many tensors to expect (the storage count), to size the lists once.</param>
    /// <param name="rename">False to leave the tensors as they are and list renamed copies (a caller's own
    /// objects).</param>
    public static List<Tensor> Collect(object? root, int expected = 0, bool rename = true)
    {
        var result = new List<Tensor>(expected);
        var seenTensors = new HashSet<Tensor>(expected, ReferenceEqualityComparer.Instance);
        var seenContainers = new HashSet<object>(ReferenceEqualityComparer.Instance);
        // Containers are walked in place (a frame holds a dict's enumerator or a list's next index), so a
        // state_dict of 40,000 entries costs one frame, not a copy of its items on the stack.
        var frames = new List<Frame> { Frame.One(root, null) };
        var patches = new List<(object Container, object Slot, Tensor Tensor)>();
        while (frames.Count > 0)
        {
            var top = frames[^1];
            object? value, slot = null, key = null;
            // A dict's or list's item is named by (parent path, key); its own path node is made only when it is a
            // container to walk into, so a state_dict's leaves cost no node each.
            KeyPath? parent = top.Path, node = null;
            if (top.Entries is { } entries)
            {
                if (!entries.MoveNext()) { frames.RemoveAt(frames.Count - 1); continue; }
                (value, key, slot) = (entries.Value, entries.Key, entries.Key);
            }
            else if (top.List is { } list)
            {
                if (top.Next >= list.Count) { frames.RemoveAt(frames.Count - 1); continue; }
                (value, key, slot) = (list[top.Next], SmallInts.Box(top.Next), top.Next);
                frames[^1] = top with { Next = top.Next + 1 };
            }
            else
            {
                frames.RemoveAt(frames.Count - 1);
                (value, node) = (top.Value, top.Path);
            }
            KeyPath? Path() => key is null ? node : node ??= new KeyPath(parent, key);
            string Name() => key is null ? KeyPath.Render(node) : KeyPath.Render(parent, key);
            if (value is LegacyTensor { Built: { } built })
            {
                // A pre-0.4 tensor: the built tensor takes the shell's place in its dict or list, once the walk is
                // done.
                if (rename && slot is not null && (top.Dict is not null
                    || top.List is PyList)) patches.Add(((object?)top.Dict ?? top.List!, slot, built));
                value = built;
            }
            switch (value)
            {
                case Tensor t:
                    if (rename && seenTensors.Add(t))
                    {
                        t.Name = Name();
                        result.Add(t);
                    }
                    else result.Add(t.WithName(Name())); // the same tensor object under a second key
                    break;
                case SparseTensor s:
                    // Listed as its parts, each named with torch's accessor and pointing back at the sparse tensor.
                    string sparseName = Name();
                    if (rename && seenContainers.Add(s)) s.Name = sparseName;
                    for (int i = 0; i < s.Components.Count; i++)
                    {
                        var part = s.Components[i];
                        string name = sparseName.Length > 0 ? sparseName + "." + s.ComponentNamesInOrder[i]
                            : s.ComponentNamesInOrder[i];
                        if (rename && seenTensors.Add(part)) { part.Name = name; result.Add(part); }
                        else result.Add(part.WithName(name));
                    }
                    break;
                case UnsupportedTensor u:
                    throw Fail.Unsupported(ErrorIds.UnsupportedTensorFeature,
                        $"Tensor '{(key is null && node is null ? "<root>" : Name())}' is {u.Feature}, which " +
                            $"TorchSerial does not load. " +
                        "Convert it to a dense tensor before saving (for example t.to_dense() or t.cpu()), or leave " +
                            "it out of the checkpoint.");
                case string or byte[] or null or DType or Storage or PyGlobal or TorchSize:
                    break;
                case PyDict d when seenContainers.Add(d):
                    if (d.State is not null) frames.Add(Frame.One(d.State, Path())); // attributes come after the items in a pickle
                    frames.Add(new Frame { Entries = d.GetEnumerator(), Dict = d, Path = Path() });
                    break;
                case PyObject o when seenContainers.Add(o) && ModuleParts(o) is { } module:
                    // An nn.Module pickled whole (admitted as inert): its tensors get model.state_dict()'s names, its
                    // own parameters and buffers first, then each child's under the child's name.
                    seenContainers.Add(o.State!);
                    frames.Add(new Frame { Entries = module.Others.GetEnumerator(), Dict = module.Others,
                        Path = Path() });
                    frames.Add(new Frame { Entries = module.Children.GetEnumerator(), Dict = module.Children,
                        Path = Path() });
                    frames.Add(new Frame { Entries = module.Buffers.GetEnumerator(), Dict = module.Buffers,
                        Path = Path() });
                    frames.Add(new Frame { Entries = module.Parameters.GetEnumerator(), Dict = module.Parameters,
                        Path = Path() });
                    break;
                case PyObject o when seenContainers.Add(o):
                    if (o.State is not null) frames.Add(Frame.One(o.State, Path()));
                    if (o.DictItems is not null) frames.Add(Frame.One(o.DictItems, Path()));
                    if (o.ListItems is not null) frames.Add(Frame.One(o.ListItems, Path()));
                    frames.Add(Frame.One(o.Args, Path()));
                    break;
                case IList items when value is PyList or PyTuple or PySet && seenContainers.Add(value):
                    frames.Add(new Frame { List = items, Path = Path() });
                    break;
            }
        }
        foreach (var (container, where, tensor) in patches)
        {
            if (container is PyDict d) d[where] = tensor;
            else ((IList)container)[(int)where] = tensor;
        }
        return result;
    }

    /// <summary>The parts of an inert nn.Module: its _parameters, _buffers and _modules, and its other
    /// attributes.</summary>
    private static (PyDict Parameters, PyDict Buffers, PyDict Children, PyDict Others)? ModuleParts(PyObject o)
    {
        if (o.State is not PyDict state || state["_parameters"] is not PyDict parameters
            || state["_modules"] is not PyDict children)
            return null;
        var buffers = state["_buffers"] as PyDict ?? new PyDict();
        var rest = new PyDict();
        foreach (DictionaryEntry e in state)
            if (e.Key is not ("_parameters" or "_buffers" or "_modules")) rest.Add(e.Key, e.Value);
        return (parameters, buffers, children, rest);
    }

    /// <summary>One value still to visit, or the rest of a dict's or a list's items.</summary>
    private readonly record struct Frame
    {
        public object? Value { get; init; }
        public KeyPath? Path { get; init; }
        public IDictionaryEnumerator? Entries { get; init; }
        public PyDict? Dict { get; init; }
        public IList? List { get; init; }
        public int Next { get; init; }
        public static Frame One(object? value, KeyPath? path) => new() { Value = value, Path = path };
    }

    /// <summary>
    /// A key path kept as a chain of segments: rendering it only for tensors keeps the walk linear
    /// even for pickles nested hundreds of thousands of levels deep.
    /// </summary>
    private sealed class KeyPath(KeyPath? parent, object key)
    {
        // The rendered path of a node whose children are tensors; siblings (a state_dict's entries) share it.
        private string? _text;

        public static string Render(KeyPath? path) => path is null ? "" : Render(path.Parent, path.Key);

        /// <summary>The path of <paramref name="key"/> under <paramref name="parent"/>, without a node for
        /// it.</summary>
        public static string Render(KeyPath? parent, object key)
        {
            string leaf = PyRepr.Str(key);
            if (parent is null) return leaf;
            return string.Concat(parent._text ??= Walk(parent), ".", leaf);
        }

        private static string Walk(KeyPath path)
        {
            var parts = new List<string>();
            for (var p = path; p is not null; p = p.Parent) parts.Add(PyRepr.Str(p.Key));
            parts.Reverse();
            return string.Join('.', parts);
        }

        private KeyPath? Parent { get; } = parent;
        private object Key { get; } = key;
    }
}
