using TorchSerial.Python;
using TorchSerial.Tensors;

namespace TorchSerial.Writing;

/// <summary>
/// Tensors piped one by one, made into the OrderedDict state_dict they came from: keyed by Name, in order, with the
/// parts of a sparse tensor (listed as <c>adj.indices</c>, <c>adj.values</c>) put back together as one sparse entry
/// under its own name. Parts whose sparse tensor did not arrive whole stay the dense tensors they are.
/// </summary>
public static class PipedStateDict
{
    public static PyDict Build(IReadOnlyList<Tensor> tensors)
    {
        var parts = new Dictionary<SparseTensor, Tensor?[]>(ReferenceEqualityComparer.Instance);
        foreach (var t in tensors)
        {
            if (t.Sparse is not { } s || SlotOf(t, s) is not int slot) continue;
            if (!parts.TryGetValue(s, out var slots)) parts[s] = slots = new Tensor?[s.Components.Count];
            slots[slot] = t;
        }
        var state = new PyDict { PythonType = "collections.OrderedDict" };
        var placed = new HashSet<SparseTensor>(ReferenceEqualityComparer.Instance);
        foreach (var t in tensors)
        {
            if (t.Sparse is { } s && parts.TryGetValue(s, out var slots) && slots.All(p => p is not null))
            {
                if (!placed.Add(s)) continue;
                string suffix = "." + s.ComponentNamesInOrder[SlotOf(t, s)!.Value];
                string key = t.Name.EndsWith(suffix, StringComparison.Ordinal) ? t.Name[..^suffix.Length] : t.Name;
                var whole = s.WithComponents(slots!);
                whole.Name = key;
                state.SetItem(key, whole);
                continue;
            }
            state.SetItem(t.Name, t);
        }
        return state;
    }

    /// <summary>Which part of <paramref name="s"/> a piped tensor is, by the accessor its name ends with.</summary>
    private static int? SlotOf(Tensor t, SparseTensor s)
    {
        for (int i = 0; i < s.ComponentNamesInOrder.Count; i++)
            if (t.Name == s.ComponentNamesInOrder[i] || t.Name.EndsWith("." + s.ComponentNamesInOrder[i],
                StringComparison.Ordinal))
                return i;
        return null;
    }
}
