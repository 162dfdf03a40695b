using System.Management.Automation;
using TorchSerial.PowerShell.Completion;

namespace TorchSerial.PowerShell.Commands;

/// <summary>Removes a handler registered with Register-TorchLocation in this runspace.</summary>
[Cmdlet(VerbsLifecycle.Unregister, "TorchLocation", SupportsShouldProcess = true)]
public sealed class UnregisterTorchLocationCommand : PSCmdlet
{
    /// <summary>The handler's name.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(LocationNameCompleter))]
    public string Name { get; set; } = "";

    protected override void ProcessRecord()
    {
        if (!ShouldProcess(Name, "Unregister location handler")) return;
        if (!RunspaceLocations.ForChange().Unregister(Name))
            WriteError(ErrorRecords.NoSuchLocationHandler(Name));
    }
}
