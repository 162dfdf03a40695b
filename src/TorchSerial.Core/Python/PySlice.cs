namespace TorchSerial.Python;

/// <summary>A Python <c>slice(start, stop, step)</c>: three values, each None where omitted.</summary>
public sealed record PySlice(object? Start, object? Stop, object? Step)
{
    public override string ToString() => $"slice({PyRepr.Of(Start)}, {PyRepr.Of(Stop)}, {PyRepr.Of(Step)})";
}
