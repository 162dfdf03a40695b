using System.Collections;

namespace TorchSerial.Tensors;

/// <summary>
/// A tensor's shape or stride: one number per dimension, read like an array (indexer, Length, Count, enumeration) and
/// written as torch writes a size, <c>[3, 4]</c>. Export-Csv and string interpolation use <see cref="ToString"/>, so a
/// column reads [3, 4] rather than a .NET type name; ConvertTo-Json enumerates it, so JSON gets the array [3,4].
/// A struct over the tensor's own array: a lazy listing of many tensors pays no object for it.
/// </summary>
public readonly struct DimList : IReadOnlyList<long>, IEquatable<DimList>
{
    private readonly long[]? _dims;

    public DimList(long[] dims) => _dims = dims;

    /// <summary>The numbers themselves, shared with the tensor (never handed out of the core).</summary>
    internal long[] Items => _dims ?? Array.Empty<long>();

    public long this[int index] => Items[index];

    /// <summary>The number of dimensions, as an array's Length.</summary>
    public int Length => Items.Length;

    public int Count => Items.Length;

    /// <summary>A copy as a plain array.</summary>
    public long[] ToArray() => (long[])Items.Clone();

    public static implicit operator DimList(long[] dims) => new(dims);

    public IEnumerator<long> GetEnumerator() => ((IEnumerable<long>)Items).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public bool Equals(DimList other) => Items.AsSpan().SequenceEqual(other.Items);

    public override bool Equals(object? obj) => obj is DimList other && Equals(other);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var d in Items) hash.Add(d);
        return hash.ToHashCode();
    }

    public static bool operator ==(DimList a, DimList b) => a.Equals(b);

    public static bool operator !=(DimList a, DimList b) => !a.Equals(b);

    /// <summary>torch's list form: <c>[3, 4]</c>, <c>[]</c> for a scalar.</summary>
    public override string ToString() => "[" + string.Join(", ", Items) + "]";
}
