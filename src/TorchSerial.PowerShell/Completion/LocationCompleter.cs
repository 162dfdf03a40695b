using TorchSerial.Devices;
namespace TorchSerial.PowerShell.Completion;

/// <summary>
/// Locations for -MapLocation: the devices here (cpu, ilgpu-cpu, each CUDA device) and the tags files carry whether or
/// not this machine has them (cuda:0 … cuda:7), since rewriting cuda:N on a CPU machine is what -MapLocation is most
/// often for.
/// </summary>
public sealed class LocationCompleter : FixedValuesCompleter
{
    private static readonly string[] Tags = new[] { "cpu", "cuda" }.Concat(Enumerable.Range(0, 8).Select(i => $"cuda:{i}")).ToArray();

    protected override IEnumerable<string> Values
        => TorchDevices.List().Where(d => d.IsAvailable).Select(d => d.Name).Concat(Tags).Distinct(StringComparer.Ordinal);
}
