namespace TorchSerial.Python;

/// <summary>A Python <c>list</c>: mutable and ordered. Distinct from <see cref="PyTuple"/>.</summary>
public sealed class PyList : List<object?>
{
    public PyList() { }
    public PyList(IEnumerable<object?> items) : base(items) { }

    public override string ToString() => PyRepr.Of(this);

    /// <summary>What Python's <c>json.dumps(obj, indent=2)</c> writes for it (ConvertTo-Json refuses a dict with int
    /// keys, such as an optimizer's state).</summary>
    public string ToJson() => JsonDumps.Of(this, 2);

    /// <summary>json.dumps with this <paramref name="indent"/>; null is its one-line form.</summary>
    public string ToJson(int? indent) => JsonDumps.Of(this, indent);
}
