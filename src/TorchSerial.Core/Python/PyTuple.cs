using System.Collections.ObjectModel;

namespace TorchSerial.Python;

/// <summary>A Python <c>tuple</c>: immutable and ordered. Distinct from <see cref="PyList"/>.</summary>
public sealed class PyTuple : ReadOnlyCollection<object?>
{
    public static new readonly PyTuple Empty = new(Array.Empty<object?>());

    public PyTuple(IList<object?> items) : base(items) { }

    public override string ToString() => PyRepr.Of(this);

    /// <summary>What Python's <c>json.dumps(obj, indent=2)</c> writes for it (ConvertTo-Json refuses a dict with int
    /// keys, such as an optimizer's state).</summary>
    public string ToJson() => JsonDumps.Of(this, 2);

    /// <summary>json.dumps with this <paramref name="indent"/>; null is its one-line form.</summary>
    public string ToJson(int? indent) => JsonDumps.Of(this, indent);
}
