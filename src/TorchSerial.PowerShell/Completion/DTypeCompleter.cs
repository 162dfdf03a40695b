using TorchSerial.Tensors;
namespace TorchSerial.PowerShell.Completion;

/// <summary>Every dtype name TorchSerial knows, for -DType.</summary>
public sealed class DTypeCompleter : FixedValuesCompleter
{
    protected override IEnumerable<string> Values => DType.All.Where(d => !d.IsQuantized).Select(d => d.Name);
}
