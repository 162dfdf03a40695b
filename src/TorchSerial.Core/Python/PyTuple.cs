using System.Collections.ObjectModel;

namespace TorchSerial.Python;

/// <summary>A Python <c>tuple</c>: immutable and ordered. Distinct from <see cref="PyList"/>.</summary>
public sealed class PyTuple : ReadOnlyCollection<object?>
{
    public static new readonly PyTuple Empty = new(Array.Empty<object?>());

    public PyTuple(IList<object?> items) : base(items) { }

    public override string ToString() => PyRepr.Of(this);
}
