using TorchSerial.Tensors;
namespace TorchSerial.PowerShell.Completion;

/// <summary>The dtypes Convert-Tensor casts between, for its -DType.</summary>
public sealed class CastDTypeCompleter : FixedValuesCompleter
{
    protected override IEnumerable<string> Values => DType.All.Where(ElementCast.Supports).Select(d => d.Name);
}
