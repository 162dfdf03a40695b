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
        while (frames.Count > 0)
        {
            var top = frames[^1];
            object? value;
            KeyPath? path;
            if (top.Entries is { } entries)
            {
                if (!entries.MoveNext()) { frames.RemoveAt(frames.Count - 1); continue; }
                (value, path) = (entries.Value, new KeyPath(top.Path, entries.Key));
            }
            else if (top.List is { } list)
            {
                if (top.Next >= list.Count) { frames.RemoveAt(frames.Count - 1); continue; }
                (value, path) = (list[top.Next], new KeyPath(top.Path, SmallInts.Box(top.Next)));
                frames[^1] = top with { Next = top.Next + 1 };
            }
            else
            {
                frames.RemoveAt(frames.Count - 1);
                (value, path) = (top.Value, top.Path);
            }
            switch (value)
            {
                case Tensor t:
                    if (rename && seenTensors.Add(t))
                    {
                        t.Name = KeyPath.Render(path);
                        result.Add(t);
                    }
                    else result.Add(t.WithName(KeyPath.Render(path))); // the same tensor object under a second key
                    break;
                case UnsupportedTensor u:
                    throw Fail.Unsupported(ErrorIds.UnsupportedTensorFeature,
                        $"Tensor '{(path is null ? "<root>" : KeyPath.Render(path))}' is {u.Feature}, which " +
                            $"TorchSerial does not load. " +
                        "Convert it to a dense tensor before saving (for example t.to_dense() or t.cpu()), or leave " +
                            "it out of the checkpoint.");
                case string or byte[] or null or DType or Storage or PyGlobal or TorchSize:
                    break;
                case PyDict d when seenContainers.Add(d):
                    if (d.State is not null) frames.Add(Frame.One(d.State,
                        path)); // attributes come after the items in a pickle
                    frames.Add(new Frame { Entries = d.GetEnumerator(), Path = path });
                    break;
                case PyObject o when seenContainers.Add(o):
                    if (o.State is not null) frames.Add(Frame.One(o.State, path));
                    if (o.DictItems is not null) frames.Add(Frame.One(o.DictItems, path));
                    if (o.ListItems is not null) frames.Add(Frame.One(o.ListItems, path));
                    frames.Add(Frame.One(o.Args, path));
                    break;
                case IList items when value is PyList or PyTuple or PySet && seenContainers.Add(value):
                    frames.Add(new Frame { List = items, Path = path });
                    break;
            }
        }
        return result;
    }

    /// <summary>One value still to visit, or the rest of a dict's or a list's items.</summary>
    private readonly record struct Frame
    {
        public object? Value { get; init; }
        public KeyPath? Path { get; init; }
        public IDictionaryEnumerator? Entries { get; init; }
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

        public static string Render(KeyPath? path)
        {
            if (path is null) return "";
            string leaf = PyRepr.Str(path.Key);
            if (path.Parent is not { } parent) return leaf;
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
