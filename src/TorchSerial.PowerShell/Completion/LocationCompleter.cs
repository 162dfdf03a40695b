using TorchSerial.Devices;
namespace TorchSerial.PowerShell.Completion;

/// <summary>
/// Locations for -MapLocation, the ones present here first: the devices of this machine (cpu, ilgpu-cpu, each CUDA
/// device), then every device name torch saves or loads whether or not this machine has it (cuda:0 … cuda:7, mps,
/// meta; rewriting cuda:N on a CPU machine is what -MapLocation is most often for), then the names of handlers
/// registered in this runspace with Register-TorchLocation.
/// </summary>
public sealed class LocationCompleter : FixedValuesCompleter
{
    private static readonly string[] TorchNames = new[] { "cpu", "cuda" }
        .Concat(Enumerable.Range(0, 8).Select(i => $"cuda:{i}")).Concat(new[] { "mps", "meta" }).ToArray();

    protected override IEnumerable<string> Values
        => TorchDevices.List().Where(d => d.IsAvailable).Select(d => d.Name).Concat(TorchNames)
            .Concat(LocationNameCompleter.Registered()).Distinct(StringComparer.Ordinal);
}

/// <summary>The handlers registered in this runspace, for Unregister-TorchLocation -Name (not file names).</summary>
public sealed class LocationNameCompleter : FixedValuesCompleter
{
    protected override IEnumerable<string> Values => Registered();

    internal static IEnumerable<string> Registered()
        => RunspaceLocations.Current.Handlers.Where(h => !h.IsBuiltIn).Select(h => h.Name);
}
