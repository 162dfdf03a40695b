using TorchSerial.Devices;
using System.Management.Automation;

namespace TorchSerial.PowerShell.Commands;

/// <summary>Lists the devices -MapLocation can place storages on: cpu, ILGPU's CPU accelerator and every CUDA
/// device.</summary>
[Cmdlet(VerbsCommon.Get, "TorchDevice")]
[OutputType(typeof(DeviceInfo))]
public sealed class GetTorchDeviceCommand : PSCmdlet
{
    /// <summary>Only devices whose name matches (wildcards).</summary>
    [Parameter(Position = 0)]
    [SupportsWildcards]
    public string[] Name { get; set; } = { "*" };

    /// <summary>Only devices that are available here.</summary>
    [Parameter]
    public SwitchParameter Available { get; set; }

    protected override void EndProcessing()
    {
        var patterns = Name.Select(n => new WildcardPattern(n, WildcardOptions.IgnoreCase)).ToList();
        foreach (var d in TorchDevices.List())
            if (patterns.Any(p => p.IsMatch(d.Name)) && (!Available || d.IsAvailable))
                WriteObject(DisplayDefaults.For(this, d));
    }
}
