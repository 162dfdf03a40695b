using System.Text.Json;
using TorchSerial.Errors;
using TorchSerial.Python;
using TorchSerial.Reading;
using TorchSerial.Tensors;
using TorchSerial.Toolbox;
using TorchSerial.Writing;
using Xunit;

namespace TorchSerial.Tests;

/// <summary>The toolbox against what real torch says (tests/fixtures/toolbox.py) and against the other
/// fixtures.</summary>
public class ToolboxTests
{
    private static readonly JsonElement Compare = JsonDocument.Parse(File.ReadAllText(Path.Combine(Fixtures.Dir,
        "toolbox.json")))
        .RootElement.GetProperty("compare");

    private static readonly JsonElement Stats = JsonDocument.Parse(File.ReadAllText(Path.Combine(Fixtures.Dir,
        "toolbox.json")))
        .RootElement.GetProperty("stats");

    private static string Toolbox(string name) => Path.Combine(Fixtures.Dir, "toolbox", name);

    [Fact]
    public void Comparisons_give_torchs_max_differences_and_assert_close_verdicts()
    {
        var a = CheckpointReader.Load(Toolbox("compare_a.pt"));
        var b = CheckpointReader.Load(Toolbox("compare_b.pt"));
        var results = TensorComparer.Compare(a.Tensors, b.Tensors).ToList();
        Assert.Equal(Compare.EnumerateObject().Select(p => p.Name), results.Select(r => r.Name));
        foreach (var r in results)
        {
            var e = Compare.GetProperty(r.Name);
            Assert.True(e.GetProperty("status").GetString() == r.Outcome.ToString(), $"{r.Name}: {r.Outcome}");
            if (!e.TryGetProperty("max_abs", out var maxAbs)) continue;
            AssertSame(maxAbs, r.MaxAbsDiff, r.Name + " max_abs");
            AssertSame(e.GetProperty("max_rel"), r.MaxRelDiff, r.Name + " max_rel");
            Assert.True(e.GetProperty("assert_close").GetBoolean() == r.IsClose, $"{r.Name}: IsClose {r.IsClose}");
            Assert.True(e.GetProperty("mismatched").GetInt64() == r.Mismatched, $"{r.Name}: {r.Mismatched} mismatched");
            Assert.Equal(e.GetProperty("rtol").GetDouble(), r.RelativeTolerance);
            Assert.Equal(e.GetProperty("atol").GetDouble(), r.AbsoluteTolerance);
        }
        var equalNan = TensorComparer.Compare(a.Tensors, b.Tensors, new CompareOptions { EqualNan = true }).ToList();
        foreach (var r in equalNan.Where(r => Compare.GetProperty(r.Name).TryGetProperty("assert_close_equal_nan",
            out _)))
            Assert.True(Compare.GetProperty(r.Name).GetProperty("assert_close_equal_nan").GetBoolean() == r.IsClose,
                $"{r.Name} equal_nan");
        // torch.allclose's tolerances (rtol 1e-5, atol 1e-8) given explicitly give allclose's verdict.
        var allclose = TensorComparer.Compare(a.Tensors, b.Tensors, new CompareOptions { RelativeTolerance = 1e-5,
            AbsoluteTolerance = 1e-8 });
        foreach (var r in allclose.Where(r => Compare.GetProperty(r.Name).TryGetProperty("allclose", out _)))
            Assert.True(Compare.GetProperty(r.Name).GetProperty("allclose").GetBoolean() == r.IsClose,
                $"{r.Name} allclose");
    }

    private static void AssertSame(JsonElement expected, double actual, string what)
    {
        double e = expected.ValueKind == JsonValueKind.Number ? expected.GetDouble() : expected.GetString() switch
        {
            "nan" => double.NaN,
            "inf" => double.PositiveInfinity,
            _ => double.NegativeInfinity,
        };
        if (double.IsNaN(e)) Assert.True(double.IsNaN(actual), $"{what}: {actual}, torch NaN");
        else Assert.True(e == actual || Math.Abs(e - actual) <= 1e-12 * Math.Abs(e), $"{what}: {actual}, torch {e}");
    }

    [Fact]
    public void A_key_path_selects_a_sub_object_and_names_its_tensors_relative_to_it()
    {
        var ckpt = CheckpointReader.Load(Fixtures.Torch("checkpoint.pt"));
        var model = SubObject.Tensors(SubObject.Select(ckpt.Root, "model"));
        var sd = CheckpointReader.Load(Fixtures.Torch("state_dict.pt"));
        Assert.Equal(sd.Tensors.Select(t => t.Name), model.Select(t => t.Name));
        Assert.StartsWith("model.", ckpt.Tensors[0].Name); // the checkpoint's own tensors keep their names
        // Integer keys (optimizer state) and a prefix of dotted names in a flat dict.
        var state = (PyDict)SubObject.Select(ckpt.Root, "optimizer.state")!;
        var first = state.Keys.Cast<object>().First();
        Assert.NotNull(SubObject.Select(ckpt.Root, $"optimizer.state.{first}"));
        var bn = SubObject.Tensors(SubObject.Select(sd.Root, "bn"));
        Assert.Equal(new[] { "weight", "bias", "running_mean", "running_var", "num_batches_tracked" }, bn.Select(t
            => t.Name));
        var ex = Assert.Throws<TorchSerialException>(() => SubObject.Select(ckpt.Root, "model.nope"));
        Assert.Equal(ErrorIds.KeyNotFound, ex.ErrorId);
        Assert.Contains("conv.weight", ex.Message);
    }

    [Fact]
    public void Renaming_a_state_dict_moves_its_metadata_and_refuses_collisions()
    {
        var sd = (PyDict)CheckpointReader.Load(Fixtures.Torch("state_dict.pt")).Root!;
        var renamed = TensorRenamer.FromPattern("^", "module.").RenameDict(sd);
        Assert.Equal(sd.Keys.Cast<string>().Select(k => "module." + k), renamed.Keys.Cast<string>());
        var meta = (PyDict)((PyDict)renamed.State!)["_metadata"]!;
        Assert.Contains("module.conv", meta.Keys.Cast<object>());
        Assert.Contains("", meta.Keys.Cast<object>()); // the root's entry stays the root's
        Assert.Same(((Tensor)sd["fc.weight"]!).Storage, ((Tensor)renamed["module.fc.weight"]!).Storage);
        var back = TensorRenamer.FromMap(renamed.Keys.Cast<string>().ToDictionary(k => k, k
            => k["module.".Length..])).RenameDict(renamed);
        Assert.Equal(sd.Keys.Cast<string>(), back.Keys.Cast<string>());
        var ex = Assert.Throws<TorchSerialException>(() => TensorRenamer.FromPattern(@"\..*", "").RenameDict(sd));
        Assert.Equal(ErrorIds.TensorNameCollision, ex.ErrorId);
    }

    [Fact]
    public void A_tensor_hashes_the_same_from_every_container_and_layout()
    {
        var zip = CheckpointReader.Load(Fixtures.Torch("views.pt"));
        // The legacy layout of the same object (the committed legacy fixture holds other random values).
        var legacyBytes = new MemoryStream();
        CheckpointWriter.Save(zip.Root, legacyBytes, new SaveOptions { Layout = SaveLayout.Legacy });
        legacyBytes.Position = 0;
        var legacy = CheckpointReader.Load(legacyBytes);
        var state = new PyDict();
        foreach (var t in zip.Tensors) state.Add(t.Name, t);
        var output = new MemoryStream();
        CheckpointWriter.Save(state, output, new SaveOptions { Layout = SaveLayout.SafeTensors });
        output.Position = 0;
        var safetensors = CheckpointReader.Load(output);
        foreach (var t in zip.Tensors)
        {
            string h = TensorHash.Compute(t).Hash;
            Assert.Equal(h, TensorHash.Compute(legacy.Tensors.Single(x => x.Name == t.Name)).Hash);
            if (safetensors.Tensors.FirstOrDefault(x => x.Name == t.Name) is { } s) Assert.Equal(h,
                TensorHash.Compute(s).Hash);
        }
        // Strided views hash as their logical elements: the transposed view equals its contiguous copy, not its
        // storage.
        var transposed = zip.Tensors.Single(t => t.Name == "transposed");
        var copy = Tensor.FromBytes(transposed.GetBytes(), transposed.DTypeInfo, transposed.Shape.ToArray());
        Assert.Equal(TensorHash.Compute(transposed).Hash, TensorHash.Compute(copy).Hash);
        Assert.NotEqual(TensorHash.Compute(transposed).Hash, TensorHash.Compute(zip.Tensors.Single(t
            => t.Name == "base")).Hash);
    }

    [Fact]
    public void Statistics_on_the_host_and_on_an_accelerator_equal_torchs()
    {
        var host = CheckpointReader.Load(Toolbox("stats.pt"));
        var placed = CheckpointReader.Load(Toolbox("stats.pt"),
            new LoadOptions { Devices = Devices.IlgpuPlatform.Instance, MapLocation = "ilgpu-cpu" });
        foreach (var (tensors, onDevice) in new[] { (host.Tensors, false), (placed.Tensors, true) })
            foreach (var t in tensors)
            {
                var s = onDevice && Devices.DeviceStatistics.CanCompute(t) ? Devices.DeviceStatistics.Compute(t)
                    : HostStatistics.Compute(t);
                if (onDevice && t.DTypeInfo == DType.Float32 && t.IsContiguous) Assert.Equal("ilgpu-cpu", s.ComputedOn);
                var e = Stats.GetProperty(t.Name);
                Assert.Equal(e.GetProperty("count").GetInt64(), s.Count);
                Assert.Equal(e.GetProperty("nan").GetInt64(), s.NaN);
                Assert.Equal(e.GetProperty("posinf").GetInt64(), s.PositiveInfinity);
                Assert.Equal(e.GetProperty("neginf").GetInt64(), s.NegativeInfinity);
                Assert.Equal(e.GetProperty("zeros").GetInt64(), s.Zeros);
                if (s.Count == 0) continue;
                // Stated tolerance: 1e-12 relative (both sides accumulate in double; only the summation order differs).
                foreach (var (field, value) in new[] { ("min", s.Min), ("max", s.Max), ("mean", s.Mean), ("std",
                    s.Std), ("norm", s.Norm) })
                {
                    var x = e.GetProperty(field);
                    double want = x.ValueKind == JsonValueKind.Number ? x.GetDouble() : x.GetString() switch
                    {
                        "nan" => double.NaN, "inf" => double.PositiveInfinity, _ => double.NegativeInfinity,
                    };
                    bool ok = double.IsNaN(want) ? double.IsNaN(value) : want == value
                        || Math.Abs(want - value) <= 1e-12 * Math.Max(1, Math.Abs(want));
                    Assert.True(ok, $"{t.Name} {field} on {s.ComputedOn}: {value}, torch {want}");
                }
            }
    }

    [Fact]
    public void Tensors_on_an_accelerator_compare_on_the_calling_thread_and_equal_their_host_copies()
    {
        var host = CheckpointReader.Load(Toolbox("stats.pt"));
        var placed = CheckpointReader.Load(Toolbox("stats.pt"), new LoadOptions { Devices = Devices.IlgpuPlatform.Instance, MapLocation = "ilgpu-cpu" });
        Assert.Contains(placed.Tensors, t => t.Device == "ilgpu-cpu");
        var results = TensorComparer.Compare(host.Tensors, placed.Tensors).ToList();
        Assert.Equal(host.Tensors.Count, results.Count);
        Assert.All(results, r => Assert.Equal(ComparisonStatus.Equal, r.Outcome));
    }
}
