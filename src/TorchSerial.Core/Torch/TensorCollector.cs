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
    public static List<Tensor> Collect(object? root, int expected = 0)
    {
        var result = new List<Tensor>(expected);
        var seenTensors = new HashSet<Tensor>(expected, ReferenceEqualityComparer.Instance);
        var items = new List<(object?, KeyPath?)>();
        var seenContainers = new HashSet<object>(ReferenceEqualityComparer.Instance);
        var stack = new Stack<(object? Value, KeyPath? Path)>();
        stack.Push((root, null));
        while (stack.Count > 0)
        {
            var (value, path) = stack.Pop();
            switch (value)
            {
                case Tensor t:
                    if (seenTensors.Add(t))
                    {
                        t.Name = KeyPath.Render(path);
                        result.Add(t);
                    }
                    else result.Add(t.WithName(KeyPath.Render(path))); // the same tensor object under a second key
                    break;
                case UnsupportedTensor u:
                    throw Fail.Unsupported(ErrorIds.UnsupportedTensorFeature,
                        $"Tensor '{(path is null ? "<root>" : KeyPath.Render(path))}' is {u.Feature}, which TorchSerial does not load. " +
                        "Convert it to a dense tensor before saving (for example t.to_dense() or t.cpu()), or leave it out of the checkpoint.");
                case string or byte[] or null or DType or Storage or PyGlobal or TorchSize:
                    break;
                case PyDict d when seenContainers.Add(d):
                    if (d.State is not null) stack.Push((d.State, path)); // attributes come after the items in a pickle
                    // The dictionary enumerator's Key and Value, not its boxed DictionaryEntry items.
                    items.Clear();
                    var entries = d.GetEnumerator();
                    while (entries.MoveNext()) items.Add((entries.Value, new KeyPath(path, entries.Key)));
                    PushReversed(stack, items);
                    break;
                case PyObject o when seenContainers.Add(o):
                    var parts = new List<(object?, KeyPath?)>();
                    if (o.State is not null) parts.Add((o.State, path));
                    if (o.DictItems is not null) parts.Add((o.DictItems, path));
                    if (o.ListItems is not null) parts.Add((o.ListItems, path));
                    parts.Add((o.Args, path));
                    foreach (var p in parts) stack.Push(p);
                    break;
                case IList list when value is PyList or PyTuple or PySet && seenContainers.Add(value):
                    items.Clear();
                    for (int i = 0; i < list.Count; i++) items.Add((list[i], new KeyPath(path, SmallInts.Box(i))));
                    PushReversed(stack, items);
                    break;
            }
        }
        return result;
    }

    private static void PushReversed(Stack<(object?, KeyPath?)> stack, List<(object?, KeyPath?)> items)
    {
        for (int i = items.Count - 1; i >= 0; i--) stack.Push(items[i]);
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
