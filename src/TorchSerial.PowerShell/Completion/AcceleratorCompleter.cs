using TorchSerial.Devices;
namespace TorchSerial.PowerShell.Completion;

/// <summary>The accelerators of this machine (ilgpu-cpu, each CUDA device), for a -Device that runs kernels.</summary>
public sealed class AcceleratorCompleter : FixedValuesCompleter
{
    protected override IEnumerable<string> Values
        => TorchDevices.List().Where(d => d.IsAvailable && d.Name != "cpu").Select(d => d.Name);
}
