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
                // Where torch 1.13 and LibTorch 2.10 give a NaN other bits (bfloat16 NaN to float16 keeps its payload
                // in 2.10: 0xFFF8, not 1.13's 0xFE00), TorchSerial follows 2.10, whose judge
                // (tests/pester/LibTorch-Judge.Tests.ps1) pins every NaN's bits; here both must be NaN.
                if (BothNaN(to, want, got)) continue;
                failures.Add($"{source.Name} -> {to}: element {at} is " +
                    $"{got.Substring(at * 2 * to.ItemSize, 2 * to.ItemSize)}, " +
                    $"torch {want.Substring(at * 2 * to.ItemSize, 2 * to.ItemSize)}");
            }
        Assert.Equal(144, pairs);
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    /// <summary>Whether two casts differ only in the bits of NaN elements of <paramref name="to"/>.</summary>
    private static bool BothNaN(DType to, string want, string got)
    {
        var a = (Array)ElementDecoder.Decode(to, Convert.FromHexString(want));
        var b = (Array)ElementDecoder.Decode(to, Convert.FromHexString(got));
        for (int i = 0; i < a.Length; i++)
        {
            var (x, y) = (a.GetValue(i), b.GetValue(i));
            if (Equals(x, y)) continue;
            if (!(IsNaN(x) && IsNaN(y))) return false;
        }
        return true;
    }

    private static bool IsNaN(object? v) => v switch
    {
        float f => float.IsNaN(f),
        double d => double.IsNaN(d),
        Half h => Half.IsNaN(h),
        System.Numerics.Complex c => double.IsNaN(c.Real) || double.IsNaN(c.Imaginary),
        _ => false,
    };

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
        for (int i = 0; i < floats.Length; i++)
        {
            // LibTorch 2.10 makes every float32 NaN 0xFFFF (torch 1.13 gave 0x7FC0 in the scalar tail).
            ushort want = float.IsNaN(floats[i]) ? (ushort)0xFFFF : ElementCast.ToBFloat16(floats[i]);
            Assert.True(want == BitConverter.ToUInt16(output, 2 * i), $"element {i}: {floats[i]}");
        }
    }
}
