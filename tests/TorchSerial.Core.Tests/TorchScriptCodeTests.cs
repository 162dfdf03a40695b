using TorchSerial.Scanning;
using Xunit;

namespace TorchSerial.Tests;

/// <summary>The scanner's reading of TorchScript code as text, on source shaped as PythonPrint writes it. The
/// archives torch 1.13 scripts are tested end to end in tests/pester/Test-TorchCheckpoint.Tests.ps1; this covers
/// forms torch 1.13 cannot script here (a custom class needs a C++ library) and what must not be flagged.</summary>
public class TorchScriptCodeTests
{
    private const string Source = """
        class Packed(Module):
          __parameters__ = []
          __buffers__ = []
          _packed : __torch__.torch.classes.myvendor.Packed
          def forward(self: __torch__.Packed,
            x: Tensor) -> Tensor:
            y = ops.aten.relu(x)
            z = ops.quantized.linear_dynamic(y, self._packed)
            return ops.myvendor.fused(z)
          def __setstate__(self: __torch__.Packed,
            state: Tuple[Tensor, str]) -> NoneType:
            _0 = ops.aten.from_file((state)[1], True, 3)
            return None
        class Other(Module):
          __parameters__ = []
          def forward(self: __torch__.Other) -> Tensor:
            return torch.zeros([1])

        """;

    [Fact]
    public void Flags_calls_outside_torch_and_every_setstate_with_its_line_and_method()
    {
        var findings = TorchScriptCode.Read("code/__torch__.py", Source).ToList();
        Assert.Equal(
            [
                "Suspicious native code __torch__.torch.classes.myvendor.Packed Packed 4",
                "Suspicious native code ops.myvendor.fused Packed.forward 9",
                "Info code run at load __setstate__ Packed.__setstate__ 10",
                "Dangerous file access ops.aten.from_file Packed.__setstate__ 12",
            ],
            findings.Select(f => $"{f.Severity} {f.Family} {f.Call} {f.Method} {f.Line}"));
        Assert.EndsWith("when torch.jit.load loads the archive", findings[3].Reason);
        Assert.StartsWith("  def __setstate__", findings[2].Code);
        Assert.EndsWith("return None", findings[2].Code);
        Assert.DoesNotContain("class Other", findings[2].Code);
    }

    [Fact]
    public void Leaves_torchs_own_operators_and_classes_alone()
    {
        const string own = """
            class Q(Module):
              _p : __torch__.torch.classes.quantized.LinearPackedParamsBase
              def forward(self: __torch__.Q, x: Tensor) -> Tensor:
                _0 = ops.quantized.linear_dynamic(x, self._p)
                ops.prim.RaiseException("no", "builtins.RuntimeError")
                return ops.aten.add(_0, 1)
            """;
        Assert.Empty(TorchScriptCode.Read("code/__torch__/q.py", own));
    }
}
