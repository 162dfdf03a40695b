using TorchSerial.Containers;
using TorchSerial.Errors;
using TorchSerial.Reading;
using TorchSerial.Torch;
using Xunit;

namespace TorchSerial.Tests;

/// <summary>TorchScript archives saved by real torch.jit.save: their state_dict, read without running their
/// code.</summary>
public class TorchScriptTests
{
    [Theory]
    [InlineData("ts_script.pt")]
    [InlineData("ts_traced.pt")]
    public void The_weights_load_with_the_names_and_bytes_of_state_dict(string file)
    {
        var expected = FormatFixtures.Expected.GetProperty("torchscript").GetProperty(file);
        var ckpt = CheckpointReader.Load(FormatFixtures.File_(file));
        Assert.Equal(CheckpointFormat.TorchScript, ckpt.Format);
        FormatFixtures.AssertTensors(expected.GetProperty("state_dict"), ckpt.Tensors);
        FormatFixtures.AssertTensors(expected.GetProperty("constants"), ckpt.Constants);
        Assert.Contains(ckpt.Records, r => r.StartsWith("code/", StringComparison.Ordinal));
    }

    [Fact]
    public void Tied_modules_are_listed_under_each_path_over_the_same_storage()
    {
        var ckpt = CheckpointReader.Load(FormatFixtures.File_("ts_script.pt"));
        var fc = ckpt.Tensors.Single(t => t.Name == "fc.weight");
        var tied = ckpt.Tensors.Single(t => t.Name == "tied.weight");
        Assert.Same(fc.Storage, tied.Storage);
        Assert.True(fc.IsParameter);
        Assert.False(ckpt.Tensors.Single(t => t.Name == "blocks.0.bn.running_mean").IsParameter);
    }

    [Fact]
    public void Class_headers_are_read_as_text_and_methods_are_skipped()
    {
        var classes = new Dictionary<string, ScriptModuleClass>();
        TorchScriptClasses.Read("__torch__.m",
            "class A(Module):\n  __parameters__ = [\"w\", \"b\", ]\n  __buffers__ = []\n" +
            "  def forward(self):\n    __parameters__ = [\"evil\"]\n    return 1\nclass B(Module):\n  x : int\ndef " +
                "f():\n  pass\n", classes);
        var a = classes["__torch__.m.A"];
        Assert.Equal(new[] { "w", "b" }, a.Parameters);
        Assert.Empty(a.Buffers);
        Assert.False(classes.ContainsKey("__torch__.m.B")); // no __parameters__: not a module class
        Assert.Equal("__torch__.torch.nn.modules.linear.___torch_mangle_0",
            TorchScriptClasses.ModuleOf("code/__torch__/torch/nn/modules/linear/___torch_mangle_0.py"));
    }

    [Fact]
    public void An_archive_whose_data_pkl_is_no_script_module_is_refused()
    {
        var ex = Assert.Throws<TorchSerialException>(()
            => CheckpointReader.Load(Fixtures.Crafted("torchscript_like.pt")));
        Assert.Equal(ErrorIds.TorchScriptStructure, ex.ErrorId);
    }

    [Fact]
    public void The_generated_linear_archive_gives_weight_and_bias()
    {
        var ckpt = CheckpointReader.Load(Fixtures.Torch("torchscript.pt"));
        Assert.Equal(new[] { "weight", "bias" }, ckpt.Tensors.Select(t => t.Name));
        Assert.Equal(new long[] { 2, 2 }, ckpt.Tensors[0].Shape.ToArray());
        Assert.All(ckpt.Tensors, t => Assert.True(t.IsParameter));
    }
}
