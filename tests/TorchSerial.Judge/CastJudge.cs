using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace TorchSerial.Judge;

/// <summary>
/// What LibTorch 2.10's <c>.to(dtype)</c> gives, element by element, for one source tensor per dtype holding the
/// values casts get wrong. Writes DIR/sources.pt (the sources, saved by LibTorch), and for every source and target
/// DIR/SOURCE-TARGET.bin (the cast's bytes) and, where C++ leaves elements undefined (a float that is NaN, infinite
/// or out of an integer target's range after truncation), DIR/SOURCE-TARGET.undefined (one byte per element, 1 where
/// the result is not to be pinned: LibTorch's own answer there depends on its code path).
/// </summary>
internal static class CastJudge
{
    /// <summary>Values that break casts: signed zeros, infinities, NaN, ties, round-up into the next binade,
    /// subnormals of each 16- and 8-bit format, each format's largest finite value and just above it, integers past
    /// every range.</summary>
    private static readonly double[] HardFloats =
    [
        0.0, -0.0, double.PositiveInfinity, double.NegativeInfinity, double.NaN, -double.NaN, 1, -1, 1.5, -1.5, 2.5,
        3.5, 0.1,
        1.0 / 3, 0.75, 0.7, 3, 6, 448, 449, 464, 470, 480, 500, 57344, 61440, 61441, 65504, 65519.99, 65520, 1e6,
        240, 247, 248, 250, 256, 57343, 1.0625, 1.1875, 3e38, 3.4028235e38, 3.5e38, 1e300, -1e300, 1e-8, 1e-45,
        1e-40, 6e-8, 3e-8, Math.Pow(2, -6), Math.Pow(2, -7), Math.Pow(2, -8), Math.Pow(2, -9), Math.Pow(2, -10),
        1.5 * Math.Pow(2, -9), Math.Pow(2, -14), Math.Pow(2, -15), Math.Pow(2, -16), Math.Pow(2, -17),
        1.5 * Math.Pow(2, -16), Math.Pow(2, -126), Math.Pow(2, -127), Math.Pow(2, -149), Math.Pow(2, -130),
        Math.ScaleB(1.5, -127), Math.ScaleB(1.99, -127), Math.ScaleB(0.75, -127), Math.Pow(2, 127), Math.Pow(2, 128),
        255.5, 256.5, 65535, 65536, 65535.75, 70000.5, 4294967295, 4294967296,
        Math.Pow(2, 63), Math.Pow(2, 64), 1.8e19, -0.5, -0.99, -1e-3, -1e30, -65536, -2147483649.0, 16777217,
        9007199254740993, 123456.789, -0.0001,
    ];

    private static readonly long[] HardIntegers =
    [
        0, 1, -1, 2, 3, 127, 128, 255, 256, -128, -129, 448, 449, 464, 480, 32767, 32768, -32769, 57344, 61440,
        65504, 65519, 65520, 65535, 65536, -65537, int.MaxValue, 2147483648, -2147483649, 4294967295, 4294967296,
        16777217, (1L << 53) + 1, (1L << 62) + 12345, long.MaxValue, long.MinValue, 300, -300, 1000000,
    ];

    private static readonly string[] FloatSources = ["float64", "float32", "float16", "bfloat16"];

    private static readonly string[] IntegerSources =
        ["int64", "int32", "int16", "int8", "uint8", "bool", "uint16", "uint32", "uint64"];

    private static readonly string[] Float8 =
        ["float8_e5m2", "float8_e4m3fn", "float8_e5m2fnuz", "float8_e4m3fnuz", "float8_e8m0fnu"];

    public static int Run(string dir)
    {
        Directory.CreateDirectory(dir);
        var codes = torch.arange(256, dtype: ScalarType.Int64).to_type(ScalarType.Byte);
        var everyCode = Float8.ToDictionary(f => f, f => DTypes.FromBytes(codes.bytes.ToArray(), DTypes.Of(f), 1));
        var floats = torch.tensor(FloatValues(everyCode.Values), dtype: ScalarType.Float64);
        var integers = torch.tensor(HardIntegers, dtype: ScalarType.Int64);

        var sources = new List<(string Name, Tensor Value)>();
        foreach (var f in FloatSources) sources.Add((f, floats.to_type(DTypes.Of(f))));
        sources.Add(("complex64", torch.complex(floats.to_type(ScalarType.Float32), floats.to_type(ScalarType.Float32)
            .neg())));
        sources.Add(("complex128", torch.complex(floats, floats * 0.5)));
        foreach (var i in IntegerSources) sources.Add((i, integers.to_type(DTypes.Of(i))));
        foreach (var f in Float8) sources.Add((f, everyCode[f]));
        TorchSave.Dict(sources, Path.Combine(dir, "sources.pt"));

        int pairs = 0, undefined = 0;
        foreach (var (name, source) in sources)
        {
            var real = (source.is_complex() ? source.real : source).to_type(ScalarType.Float64);
            var values = real.data<double>().ToArray();
            bool floating = source.is_floating_point() || source.is_complex() || DTypes.IsFloat8(name);
            foreach (var (target, _) in DTypes.All)
            {
                if (target == name) continue;
                var cast = source.to_type(DTypes.Of(target));
                File.WriteAllBytes(Path.Combine(dir, $"{name}-{target}.bin"), DTypes.LogicalBytes(cast));
                pairs++;
                if (!floating) continue;
                var mask = Range(target) is var (min, max)
                    ? values.Select(v => (byte)(double.IsNaN(v) || Math.Truncate(v) < min
                        || Math.Truncate(v) > max ? 1 : 0)).ToArray()
                    : values.Select((v, i) => (byte)(double.IsNaN(v) && PathDependent(source, i, target) ? 1 : 0))
                        .ToArray();
                if (mask.Any(b => b == 1))
                {
                    File.WriteAllBytes(Path.Combine(dir, $"{name}-{target}.undefined"), mask);
                    undefined += mask.Count(b => b == 1);
                }
            }
        }
        var summary = new { sources = sources.Select(s => new { name = s.Name, count = s.Value.numel() }), pairs,
            undefined };
        File.WriteAllText(Path.Combine(dir, "casts.json"), JsonSerializer.Serialize(summary));
        Console.WriteLine($"{sources.Count} sources, {pairs} casts, {undefined} undefined elements left unpinned");
        return 0;
    }

    /// <summary>The hard values, every finite float8 value of each format, the midpoint of each pair of neighbours
    /// (a tie) and numbers just either side of it, all as LibTorch decodes the codes.</summary>
    private static double[] FloatValues(IEnumerable<Tensor> everyCode)
    {
        var values = new List<double>(HardFloats);
        foreach (var codes in everyCode)
        {
            var decoded = codes.to_type(ScalarType.Float64).data<double>().ToArray()
                .Where(double.IsFinite).Where(v => v > 0).Distinct().Order().ToArray();
            for (int i = 0; i < decoded.Length; i++)
            {
                values.Add(decoded[i]);
                if (i + 1 == decoded.Length) break;
                double mid = (decoded[i] + decoded[i + 1]) / 2;
                values.AddRange([mid, mid * (1 + 1e-6), mid * (1 - 1e-6), -mid]);
            }
        }
        // NaNs of both signs and with payloads, again last: torch kernels convert the n mod 16 last elements in a
        // scalar loop, which once gave other NaN bits than the vectorized part.
        values.AddRange([NaN(0x7FF8000000000000), NaN(0xFFF8000000000000), NaN(0x7FF4000000000001),
            NaN(0x7FF0000000000001), NaN(0xFFFFFFFFFFFFFFFF)]);
        return values.ToArray();
    }

    /// <summary>Whether LibTorch gives a NaN element other bits alone (its scalar loop) than among copies of itself
    /// (its vectorized loop): float16 0xFFFF becomes float32 0xFFFFE000 in one and 0x7FFFFFFF in the other. Those
    /// bits are LibTorch's accident, not a rule to pin.</summary>
    private static bool PathDependent(Tensor source, int index, string target)
    {
        var type = DTypes.Of(target);
        var alone = DTypes.LogicalBytes(source[index..(index + 1)].to_type(type));
        var among = DTypes.LogicalBytes(source[index..(index + 1)].expand(64).contiguous().to_type(type));
        return !alone.AsSpan().SequenceEqual(among.AsSpan(0, alone.Length));
    }

    private static double NaN(ulong bits) => BitConverter.UInt64BitsToDouble(bits);

    /// <summary>The values an integer target holds; null for floating and bool targets, which every value
    /// converts to.</summary>
    private static (double Min, double Max)? Range(string target) => target switch
    {
        "int8" => (sbyte.MinValue, sbyte.MaxValue),
        "uint8" => (0, byte.MaxValue),
        "int16" => (short.MinValue, short.MaxValue),
        "uint16" => (0, ushort.MaxValue),
        "int32" => (int.MinValue, int.MaxValue),
        "uint32" => (0, uint.MaxValue),
        // 2^63 and 2^64 are not representable; the largest doubles below them are.
        "int64" => (-9223372036854775808.0, 9223372036854774784.0),
        "uint64" => (0, 18446744073709549568.0),
        _ => null,
    };
}
