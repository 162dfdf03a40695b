using TorchSerial.Devices;
namespace TorchSerial.PowerShell.Completion;

/// <summary>The devices that exist here, for -MapLocation: cpu, ilgpu-cpu and each CUDA device.</summary>
public sealed class LocationCompleter : FixedValuesCompleter
{
    protected override IEnumerable<string> Values => TorchDevices.List().Where(d => d.IsAvailable).Select(d => d.Name);
}
