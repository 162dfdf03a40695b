using TorchSerial.Python;
using TorchSerial.Reading;
using TorchSerial.Tensors;
using System.Numerics;
using Xunit;

namespace TorchSerial.Tests;

/// <summary>The -AsObject graph: Python values map onto the documented .NET types.</summary>
public class ObjectModelTests
{
    [Theory]
    [InlineData("checkpoint.pt")]
    [InlineData("legacy_checkpoint.pt")]
    public void Checkpoint_values_have_their_python_types(string file)
    {
        var root = Assert.IsType<PyDict>(CheckpointReader.Load(Fixtures.Torch(file)).Root);
        Assert.False(root.IsOrderedDict);
        Assert.Equal(7L, root["epoch"]);
        Assert.Equal(0.25, root["loss"]);
        Assert.Equal("r\u00e9sum\u00e9", root["name"]);
        Assert.Equal(new object?[] { "a", "b" }, Assert.IsType<PyList>(root["tags"]));
        Assert.Equal(new object?[] { 1L, null }, Assert.IsType<PyTuple>(root["pair"]));
        Assert.Equal(true, root["flag"]);
        Assert.Equal(new byte[] { 0, 0xFF, 0x61, 0x62 }, Assert.IsType<byte[]>(root["blob"]));
        Assert.Equal(BigInteger.Pow(2, 80), Assert.IsType<BigInteger>(root["huge"]));
        Assert.Equal(-5L, root["neg"]);
        Assert.Equal(new long[] { 2, 3 }, Assert.IsType<TorchSize>(root["size"]));

        var model = Assert.IsType<PyDict>(root["model"]);
        Assert.True(model.IsOrderedDict);
        var metadata = Assert.IsType<PyDict>(Assert.IsType<PyDict>(model.State)["_metadata"]);
        Assert.Equal(new[] { "", "conv", "bn", "fc" }, ExpectedTensors.Names(metadata));

        var optimizer = Assert.IsType<PyDict>(root["optimizer"]);
        var state = Assert.IsType<PyDict>(optimizer["state"]);
        Assert.Equal(new object[] { 4L, 5L }, state.Keys.Cast<object>()); // only fc's parameters had gradients
        var group = Assert.IsType<PyDict>(Assert.IsType<PyList>(optimizer["param_groups"])[0]);
        Assert.Equal(0.001, group["lr"]);
        Assert.Equal(new object?[] { 0.9, 0.999 }, Assert.IsType<PyTuple>(group["betas"]));
        var exp = Assert.IsType<Tensor>(Assert.IsType<PyDict>(state[4L])["exp_avg"]);
        Assert.Equal("optimizer.state.4.exp_avg", exp.Name);
        Assert.Equal(new long[] { 4, 12 }, exp.Shape.ToArray());
    }

    [Fact]
    public void Tied_weights_are_one_tensor_object_under_two_names()
    {
        var ckpt = CheckpointReader.Load(Fixtures.Torch("views.pt"));
        var root = Assert.IsType<PyDict>(ckpt.Root);
        Assert.Same(root["tied_a"], root["tied_b"]); // the pickle memoised one object
        var a = ckpt.Tensors.Single(t => t.Name == "tied_a");
        var b = ckpt.Tensors.Single(t => t.Name == "tied_b");
        Assert.Same(a.Storage, b.Storage);
    }

    [Fact]
    public void Strided_views_gather_the_logical_elements()
    {
        var ckpt = CheckpointReader.Load(Fixtures.Torch("views.pt"));
        float[] Of(string name) => (float[])ckpt.Tensors.Single(t => t.Name == name).ToArray();
        Assert.Equal(new float[] { 0, 3, 1, 4, 2, 5 }, Of("transposed"));
        Assert.Equal(new float[] { 1, 4 }, Of("col"));
        Assert.Equal(new float[] { 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2 }, Of("expanded"));
        Assert.Equal(new float[] { 3.5f }, Of("scalar"));
        Assert.Empty(Of("empty"));
        Assert.False(ckpt.Tensors.Single(t => t.Name == "transposed").IsContiguous);
        Assert.True(ckpt.Tensors.Single(t => t.Name == "row").IsContiguous);
    }

    [Fact]
    public void DType_names_are_torch_names()
    {
        Assert.Equal(32, DType.All.Count);
        Assert.Equal("float8_e4m3fn", DType.Float8E4M3FN.ToString());
        Assert.Same(DType.BFloat16, DType.FromName("bfloat16"));
        Assert.Same(DType.Float16, DType.FromStorageClass("HalfStorage"));
        Assert.Null(DType.FromName("float"));
    }
    // What CPython's repr(float) prints for each (python3 -c 'print(repr(x))'), where .NET's "R" differs at 1e15 and in
    // the exponent's case.
    [Theory]
    [InlineData(1e16, "1e+16")]
    [InlineData(1e15, "1000000000000000.0")]
    [InlineData(1e-5, "1e-05")]
    [InlineData(0.0001, "0.0001")]
    [InlineData(123.456, "123.456")]
    [InlineData(-0.0, "-0.0")]
    [InlineData(1.5e300, "1.5e+300")]
    [InlineData(5e-324, "5e-324")]
    [InlineData(1.0 / 3, "0.3333333333333333")]
    [InlineData(-2.5e-7, "-2.5e-07")]
    [InlineData(12345678901234567.0, "1.2345678901234568e+16")]
    public void Floats_print_as_python_repr(double value, string expected)
        => Assert.Equal(expected, PyRepr.Float(value));

    [Fact]
    public void Containers_inside_themselves_print_as_python_does_and_quickly()
    {
        var list = new PyList();
        for (int i = 0; i < 200; i++) list.Add(list);
        var dict = new PyDict();
        dict.Add("self", dict);
        Assert.StartsWith("[[...], [...],", list.ToString());
        Assert.True(list.ToString().Length < 400);
        Assert.Equal("{'self': {...}}", dict.ToString());
        Assert.Equal("set()", new PySet(frozen: false).ToString());
    }
}
