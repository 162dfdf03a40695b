using TorchSerial.Tensors;
using System.Collections;
using System.Numerics;
using System.Text.Json;
using Xunit;

namespace TorchSerial.Tests;

/// <summary>Asserts loaded tensors against the values real torch (or the crafting script) recorded.</summary>
internal static class ExpectedTensors
{
    public static void AssertMatch(JsonElement expected, IReadOnlyList<Tensor> actual, string? locationOverride = null)
    {
        var rows = expected.EnumerateArray().ToList();
        Assert.Equal(rows.Select(r => r.GetProperty("name").GetString()), actual.Select(t => t.Name));
        var groups = new Dictionary<int, Storage>();
        for (int i = 0; i < rows.Count; i++)
        {
            var e = rows[i];
            var t = actual[i];
            string what = t.Name;
            Assert.True(e.GetProperty("dtype").GetString() == t.DType, $"{what}: dtype {t.DType}");
            Assert.Equal(Longs(e.GetProperty("shape")), t.Shape.ToArray());
            Assert.Equal(Longs(e.GetProperty("stride")), t.Stride.ToArray());
            Assert.Equal(e.GetProperty("offset").GetInt64(), t.StorageOffset);
            if (e.TryGetProperty("numel", out var numel)) Assert.Equal(numel.GetInt64(), t.NumElements);
            if (e.TryGetProperty("requires_grad", out var rg)) Assert.True(rg.GetBoolean() == t.RequiresGrad, $"{what}: requires_grad");
            if (e.TryGetProperty("is_parameter", out var ip)) Assert.True(ip.GetBoolean() == t.IsParameter, $"{what}: is_parameter");
            Assert.Equal(locationOverride ?? e.GetProperty("location").GetString(), t.SavedLocation);
            Assert.Equal("cpu", t.Device);
            if (e.TryGetProperty("storage_nbytes", out var nb)) Assert.Equal(nb.GetInt64(), t.Storage.NumBytes);
            if (e.GetProperty("storage_group").ValueKind == JsonValueKind.Number)
            {
                int g = e.GetProperty("storage_group").GetInt32();
                if (groups.TryGetValue(g, out var s)) Assert.True(ReferenceEquals(s, t.Storage), $"{what}: should share storage group {g}");
                else
                {
                    Assert.DoesNotContain(groups.Values, v => ReferenceEquals(v, t.Storage));
                    groups[g] = t.Storage;
                }
            }
            Assert.True(e.GetProperty("sha256").GetString() == Fixtures.Sha256(t.GetBytes()), $"{what}: logical bytes differ");
            if (e.TryGetProperty("values", out var values) && !t.DTypeInfo.IsQuantized) AssertValues(values, t);
            if (e.TryGetProperty("qscheme", out var qs))
            {
                Assert.NotNull(t.Quantization);
                Assert.Equal(qs.GetString(), t.Quantization!.Scheme);
                if (e.TryGetProperty("scale", out var scale)) Assert.Equal(scale.GetDouble(), t.Quantization.Scale);
                if (e.TryGetProperty("zero_point", out var zp)) Assert.Equal(zp.GetInt64(), t.Quantization.ZeroPoint);
            }
        }
    }

    private static void AssertValues(JsonElement values, Tensor t)
    {
        var array = t.ToArray();
        var expected = values.EnumerateArray().ToList();
        Assert.True(array.Length >= expected.Count, $"{t.Name}: {array.Length} values");
        for (int i = 0; i < expected.Count; i++)
        {
            object? actual = array.GetValue(i);
            var e = expected[i];
            switch (actual)
            {
                case Complex c:
                    Assert.Equal(e[0].GetDouble(), c.Real);
                    Assert.Equal(e[1].GetDouble(), c.Imaginary);
                    break;
                case bool b: Assert.Equal(e.GetBoolean(), b); break;
                case float or double or Half:
                    double d = Convert.ToDouble(actual is Half h ? (double)h : actual);
                    if (e.ValueKind == JsonValueKind.String)
                    {
                        string s = e.GetString()!;
                        Assert.True(s == "nan" ? double.IsNaN(d) : s == "inf" ? double.IsPositiveInfinity(d) : double.IsNegativeInfinity(d), $"{t.Name}[{i}] = {d}, expected {s}");
                    }
                    else Assert.Equal(e.GetDouble(), d);
                    break;
                case ulong u: Assert.Equal(e.GetUInt64(), u); break;
                default: Assert.Equal(e.GetInt64(), Convert.ToInt64(actual)); break;
            }
        }
    }

    private static long[] Longs(JsonElement e) => e.EnumerateArray().Select(x => x.GetInt64()).ToArray();

    public static IEnumerable<string> Names(IDictionary d) => d.Keys.Cast<object>().Select(k => k.ToString()!);
}
