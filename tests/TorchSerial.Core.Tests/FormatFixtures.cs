using System.Text.Json;
using TorchSerial.Tensors;
using Xunit;

namespace TorchSerial.Tests;

/// <summary>The fixtures of tests/fixtures/formats.py and the checks shared by the safetensors, set and TorchScript
/// tests.</summary>
internal static class FormatFixtures
{
    public static JsonElement Expected { get; } =
        JsonDocument.Parse(File.ReadAllText(Path.Combine(Fixtures.Dir, "formats.json"))).RootElement;

    /// <summary>The file names of one section of formats.json, as xunit theory rows.</summary>
    public static IEnumerable<object[]> Names(string section)
        => Expected.GetProperty(section).EnumerateObject().Select(p => new object[] { p.Name });

    /// <summary>The (file, ErrorId) pairs of one section of formats.json, as xunit theory rows.</summary>
    public static IEnumerable<object[]> Errors(string section)
        => Expected.GetProperty(section).EnumerateObject().Select(p => new object[] { p.Name, p.Value.GetString()! });

    public static string File_(string name) => Path.Combine(Fixtures.Dir, "formats", name);

    /// <summary>Names in order, dtype, shape, stride (when recorded) and the SHA-256 of the logical bytes.</summary>
    public static void AssertTensors(JsonElement expected, IReadOnlyList<Tensor> actual)
    {
        var rows = expected.EnumerateArray().ToList();
        Assert.Equal(rows.Select(r => r.GetProperty("name").GetString()), actual.Select(t => t.Name));
        for (int i = 0; i < rows.Count; i++)
        {
            var (e, t) = (rows[i], actual[i]);
            Assert.True(e.GetProperty("dtype").GetString() == t.DType, $"{t.Name}: dtype {t.DType}");
            Assert.Equal(Longs(e.GetProperty("shape")), t.Shape.ToArray());
            if (e.TryGetProperty("stride", out var stride)) Assert.Equal(Longs(stride), t.Stride.ToArray());
            if (e.TryGetProperty("nbytes", out var nb)) Assert.Equal(nb.GetInt64(), t.NumBytes);
            Assert.True(e.GetProperty("sha256").GetString() == Fixtures.Sha256(t.GetBytes()),
                $"{t.Name}: logical bytes differ");
        }
    }

    public static long[] Longs(JsonElement e) => e.EnumerateArray().Select(x => x.GetInt64()).ToArray();
}
