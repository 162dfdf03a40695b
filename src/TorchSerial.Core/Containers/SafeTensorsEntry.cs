namespace TorchSerial.Containers;

/// <summary>
/// One tensor of a safetensors header: its name, dtype code, logical shape (as the header writes it, so an F4
/// tensor counts single values) and its byte range relative to the start of the data.
/// </summary>
public sealed record SafeTensorsEntry(string Name, SafeTensorsDType DType, long[] Shape, long Begin, long End)
{
    public long ByteLength => End - Begin;

    /// <summary>The element count of the logical shape.</summary>
    public long NumValues => Shape.Aggregate(1L, (a, d) => checked(a * d));
}
