namespace TorchSerial.Python;

/// <summary>A Python <c>range(start, stop, step)</c>, kept as its three bounds: a range of 10^18 numbers is three
/// numbers in a pickle and stays three here (nothing is enumerated).</summary>
public sealed record PyRange(long Start, long Stop, long Step)
{
    /// <summary>How many numbers it holds (Python's <c>len(range(...))</c>).</summary>
    public System.Numerics.BigInteger Count => Step > 0
        ? Stop > Start ? ((System.Numerics.BigInteger)Stop - Start + Step - 1) / Step : 0
        : Start > Stop ? ((System.Numerics.BigInteger)Start - Stop - Step - 1) / -Step : 0;

    public override string ToString() => Step == 1 ? $"range({Start}, {Stop})" : $"range({Start}, {Stop}, {Step})";
}
