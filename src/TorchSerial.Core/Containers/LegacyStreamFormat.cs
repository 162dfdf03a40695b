using System.Numerics;

namespace TorchSerial.Containers;

/// <summary>The constants of torch's legacy stacked-pickle stream (torch-format.md §4), shared by its reader and
/// writer.</summary>
internal static class LegacyStreamFormat
{
    /// <summary>The first pickled value of every legacy checkpoint.</summary>
    public static readonly BigInteger Magic = BigInteger.Parse("1950A86A20F9469CFC6C",
        System.Globalization.NumberStyles.HexNumber);

    /// <summary>The second pickled value.</summary>
    public const long ProtocolVersion = 1001;
}
