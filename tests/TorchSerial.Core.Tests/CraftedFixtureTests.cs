using TorchSerial.Containers;
using TorchSerial.Errors;
using TorchSerial.Pickle;
using TorchSerial.Python;
using TorchSerial.Reading;
using TorchSerial.Tensors;
using TorchSerial.Torch;
using Xunit;

namespace TorchSerial.Tests;

/// <summary>Formats torch 1.13 cannot write, built from torch-format.md by tests/fixtures/craft.py.</summary>
public class CraftedFixtureTests
{
    [Theory]
    [InlineData("v3_dtypes.pt", CheckpointFormat.Zip)]
    [InlineData("bigendian.pt", CheckpointFormat.Zip)]
    [InlineData("tar_legacy.pt", CheckpointFormat.LegacyTar)]
    [InlineData("torch2_objects.pt", CheckpointFormat.Zip)]
    public void Loads_the_crafted_values(string file, CheckpointFormat format)
    {
        var ckpt = CheckpointReader.Load(Fixtures.Crafted(file));
        Assert.Equal(format, ckpt.Format);
        ExpectedTensors.AssertMatch(Fixtures.CraftedExpected.GetProperty(file).GetProperty("tensors"), ckpt.Tensors);
    }

    [Theory]
    [InlineData("deflated.pt")]
    [InlineData("zip64.pt")]
    public void Repacked_zips_load_like_the_original(string file)
    {
        var ckpt = CheckpointReader.Load(Fixtures.Crafted(file));
        ExpectedTensors.AssertMatch(Fixtures.Expected.GetProperty("checkpoints").GetProperty("views.pt").GetProperty("tensors"), ckpt.Tensors);
    }

    [Fact]
    public void V3_records_of_torch_2_are_read()
    {
        var ckpt = CheckpointReader.Load(Fixtures.Crafted("v3_dtypes.pt"));
        Assert.Equal(new[] { "data.pkl", ".format_version", ".storage_alignment", "byteorder" }, ckpt.Records.Take(4));
        Assert.True(ckpt.Storages.All(s => s.IsUntyped && s.DType == DType.UInt8));
        var f8 = ckpt.Tensors.Single(t => t.Name == "f8_e4m3fn");
        Assert.Equal(DType.Float8E4M3FN, f8.DTypeInfo);
        Assert.Equal(new byte[] { 0x38, 0x7E, 0xB8, 0x01, 0x7F, 0x00 }, f8.GetBytes());
        Assert.IsType<ulong[]>(ckpt.Tensors.Single(t => t.Name == "u64").ToArray());
        Assert.IsType<ushort[]>(ckpt.Tensors.Single(t => t.Name == "u16").ToArray());
    }

    [Fact]
    public void Torch2_tensor_objects_keep_their_python_state()
    {
        var t = CheckpointReader.Load(Fixtures.Crafted("torch2_objects.pt")).Tensors;
        Assert.Equal("frozen-later", Assert.IsType<PyDict>(t[0].PythonState)["tag"]);
        Assert.Equal("calibrated", Assert.IsType<PyDict>(t[1].PythonState)["note"]);
        Assert.Null(t[1].PythonType); // a plain torch.Tensor, not a subclass
        Assert.Equal(true, t[3].Metadata!["conj"]);
        Assert.True(t.All(x => ReferenceEquals(x.Storage, t[0].Storage)));
    }

    [Fact]
    public void Cuda_tags_fail_without_map_location_and_load_with_cpu()
    {
        var ex = Assert.Throws<TorchSerialException>(() => CheckpointReader.Load(Fixtures.Crafted("cuda_tagged.pt")));
        Assert.Equal(ErrorIds.DeviceUnavailable, ex.ErrorId);
        Assert.Contains("-MapLocation cpu", ex.Message);
        var ckpt = CheckpointReader.Load(Fixtures.Crafted("cuda_tagged.pt"), new LoadOptions { MapLocation = "cpu" });
        ExpectedTensors.AssertMatch(Fixtures.Expected.GetProperty("checkpoints").GetProperty("views.pt").GetProperty("tensors"), ckpt.Tensors, "cuda:1");
    }

    [Fact]
    public void Location_map_remaps_one_tag()
    {
        var ckpt = CheckpointReader.Load(Fixtures.Crafted("cuda_tagged.pt"),
            new LoadOptions { MapLocation = MapLocation.Table(new Dictionary<string, string> { ["cuda:1"] = "cpu" }) });
        Assert.All(ckpt.Tensors, t => Assert.Equal(("cpu", "cuda:1"), (t.Device, t.SavedLocation)));
    }

    [Fact]
    public void Python2_strings_follow_the_encoding_option()
    {
        var ex = Assert.Throws<TorchSerialException>(() => CheckpointReader.Load(Fixtures.Crafted("py2_strings.pt")));
        Assert.Equal(ErrorIds.StringDecodeFailed, ex.ErrorId);
        Assert.Contains("-Encoding latin1", ex.Message);

        var latin1 = CheckpointReader.Load(Fixtures.Crafted("py2_strings.pt"), new LoadOptions { Encoding = StringEncoding.Latin1 });
        var root = Assert.IsType<PyDict>(latin1.Root);
        Assert.Equal(new[] { "base", "r\u00e9w", "col" }, ExpectedTensors.Names(root).Take(3));
        Assert.Equal("r\u00e9w", latin1.Tensors[1].Name);

        var bytes = CheckpointReader.Load(Fixtures.Crafted("py2_strings.pt"), new LoadOptions { Encoding = StringEncoding.Bytes });
        var keys = Assert.IsType<PyDict>(bytes.Root).Keys.Cast<object>().ToList();
        Assert.Equal(new byte[] { (byte)'r', 0xE9, (byte)'w' }, Assert.IsType<byte[]>(keys[1]));
        Assert.IsType<string>(keys[2]); // Python 3 str keys are unaffected
    }

    [Fact]
    public void Protocol0_pickle_loads()
    {
        var root = Assert.IsType<PyDict>(CheckpointReader.Load(Fixtures.Crafted("protocol0.pt")).Root);
        Assert.Equal(3L, root["epoch"]);
        Assert.Equal(0.5, root["lr"]);
        Assert.Equal("x\u00e9", root["name"]);
        Assert.Equal(System.Numerics.BigInteger.Pow(2, 70), root["big"]);
        Assert.Equal(true, root["flag"]);
        var items = Assert.IsType<PyList>(root["items"]);
        Assert.Equal(1L, items[0]);
        Assert.Equal(new object?[] { 2L, null }, Assert.IsType<PyTuple>(items[1]));
    }

    [Fact]
    public void Unsafe_global_is_refused_and_admitted_only_as_inert_data()
    {
        var ex = Assert.Throws<TorchSerialException>(() => CheckpointReader.Load(Fixtures.Crafted("unsafe_global.pt")));
        Assert.Equal(ErrorIds.UnsafeGlobal, ex.ErrorId);
        Assert.Contains("'posix.system' (pickle 'data.pkl', offset 2): unpickling it runs code that executes a shell " +
            "command (it is os.system)", ex.Message);
        Assert.DoesNotContain("-AllowGlobal", ex.Message);

        var ckpt = CheckpointReader.Load(Fixtures.Crafted("unsafe_global.pt"), new LoadOptions { Policy = new GlobalPolicy(new[] { "*" }) });
        var inert = Assert.IsType<PyObject>(ckpt.Root);
        Assert.Equal(("posix", "system", "REDUCE"), (inert.Module, inert.Name, inert.ConstructedBy));
        Assert.Equal(new object?[] { "echo pwned!" }, inert.Args);
    }

    [Theory]
    [InlineData("posix.*", GlobalVerdict.AllowedByUser)]
    [InlineData("posix.syst?m", GlobalVerdict.AllowedByUser)]
    [InlineData("os.*", GlobalVerdict.Refused)]
    public void AllowGlobal_patterns_use_wildcards(string pattern, GlobalVerdict verdict)
        => Assert.Equal(verdict, new GlobalPolicy(new[] { pattern }).Check("posix.system"));
}
