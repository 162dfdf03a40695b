namespace TorchSerial.Pickle;

/// <summary>
/// Boxed Python ints, shared for the small values that every tensor's sizes, strides and offsets use, as
/// CPython shares its small ints. Ints are immutable, so sharing a box changes nothing but the allocation count.
/// </summary>
internal static class SmallInts
{
    private const int Min = -5, Max = 1024;
    private static readonly object[] Boxes = Enumerable.Range(Min, Max - Min + 1).Select(i =>
        (object)(long)i).ToArray();

    public static object Box(long value) => value is >= Min and <= Max ? Boxes[value - Min] : value;
}
