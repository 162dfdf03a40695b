namespace TorchSerial.Python;

/// <summary>A Python <c>set</c> or <c>frozenset</c>, in the order its items were pickled.</summary>
public sealed class PySet : List<object?>
{
    public PySet(bool frozen) { IsFrozen = frozen; }

    public bool IsFrozen { get; }

    /// <summary>Adds an item unless an equal one is already present, as a Python set does.</summary>
    public void AddUnique(object? item)
    {
        foreach (var existing in this)
            if (PyKeyComparer.Instance.Equals(existing, item)) return;
        Add(item);
    }
}
