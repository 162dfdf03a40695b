using System.Text.Json;
using TorchSerial.Reading;
using TorchSerial.Tensors;
using Xunit;

namespace TorchSerial.Tests;

/// <summary>ElementCast against what real torch's .to(dtype) gave for every pair of its dtypes
/// (tests/fixtures/casts.py).</summary>
public class CastTests
{
    private static readonly JsonElement Expected = JsonDocument.Parse(File.ReadAllText(Path.Combine(Fixtures.Dir,
        "casts.json"))).RootElement;

    [Fact]
    public void Every_pair_of_dtypes_casts_to_torchs_exact_bytes()
    {
        var sources = CheckpointReader.Load(Path.Combine(Fixtures.Dir, "casts", "source.pt"));
        var failures = new List<string>();
        int pairs = 0;
        foreach (var source in sources.Tensors)
            foreach (var target in Expected.GetProperty(source.Name).EnumerateObject())
            {
                var to = DType.FromName(target.Name)!;
                var bytes = new byte[source.NumElements * to.ItemSize];
                ElementCast.Cast(source.DTypeInfo, source.GetBytes(), to, bytes);
                pairs++;
                string want = target.Value.GetProperty("hex").GetString()!;
                string got = Convert.ToHexString(bytes).ToLowerInvariant();
                if (want == got) continue;
                int at = Enumerable.Range(0, want.Length).First(i => want[i] != got[i]) / (2 * to.ItemSize);
                failures.Add($"{source.Name} -> {to}: element {at} is " +
                    $"{got.Substring(at * 2 * to.ItemSize, 2 * to.ItemSize)}, " +
                    $"torch {want.Substring(at * 2 * to.ItemSize, 2 * to.ItemSize)}");
            }
        Assert.Equal(144, pairs);
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public void The_vectorized_bfloat16_path_rounds_every_bit_pattern_as_the_scalar_one()
    {
        var random = new Random(7);
        var floats = new float[100_003];
        for (int i = 0; i < floats.Length; i++) floats[i] = BitConverter.Int32BitsToSingle(random.Next() ^ (random.Next(2) << 31));
        floats[5] = float.NaN; floats[6] = float.PositiveInfinity; floats[7] = -0f; floats[8] = 1e-45f; floats[^1] = float.NaN;
        var source = System.Runtime.InteropServices.MemoryMarshal.AsBytes(floats.AsSpan()).ToArray();
        var output = new byte[floats.Length * 2];
        ElementCast.Cast(DType.Float32, source, DType.BFloat16, output);
        int vectorEnd = floats.Length - floats.Length % 16;
        for (int i = 0; i < floats.Length; i++)
        {
            ushort want = float.IsNaN(floats[i]) ? (i < vectorEnd ? (ushort)0xFFFF : (ushort)0x7FC0)
                : ElementCast.ToBFloat16(floats[i]);
            Assert.True(want == BitConverter.ToUInt16(output, 2 * i), $"element {i}: {floats[i]}");
        }
    }
}
