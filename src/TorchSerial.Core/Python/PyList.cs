namespace TorchSerial.Python;

/// <summary>A Python <c>list</c>: mutable and ordered. Distinct from <see cref="PyTuple"/>.</summary>
public sealed class PyList : List<object?>
{
    public PyList() { }
    public PyList(IEnumerable<object?> items) : base(items) { }

    public override string ToString() => PyRepr.Of(this);
}
