namespace TorchSerial.Python;

/// <summary>A Python <c>set</c> or <c>frozenset</c>, in the order its items were pickled.</summary>
public sealed class PySet : List<object?>
{
    // Membership by Python equality, in O(1): a set of a million items must not take a million squared steps.
    private readonly HashSet<object> _members = new(new KeyAdapter());
    private bool _hasNone;

    public PySet(bool frozen) { IsFrozen = frozen; }

    public bool IsFrozen { get; }

    public override string ToString() => PyRepr.Of(this);

    /// <summary>Adds an item unless an equal one is already present, as a Python set does.</summary>
    public void AddUnique(object? item)
    {
        if (item is null) { if (_hasNone) return; _hasNone = true; }
        else if (!_members.Add(item)) return;
        Add(item);
    }

    private sealed class KeyAdapter : IEqualityComparer<object>
    {
        public new bool Equals(object? x, object? y) => PyKeyComparer.Instance.Equals(x, y);
        public int GetHashCode(object obj) => PyKeyComparer.Instance.GetHashCode(obj);
    }
}
