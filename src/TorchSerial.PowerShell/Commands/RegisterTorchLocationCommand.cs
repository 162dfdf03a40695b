using TorchSerial.Tensors;
using TorchSerial.Torch;
using System.Management.Automation;

namespace TorchSerial.PowerShell.Commands;

/// <summary>
/// torch.serialization.register_package for PowerShell: a tagger names the tag a storage is saved with,
/// a deserializer turns a saved tag into a device name (or a storage), or returns nothing to pass.
/// Handlers are tried in ascending -Priority (torch's cpu is 10, cuda 20); a taken priority goes last.
/// They apply to loads and saves in this runspace only.
/// </summary>
[Cmdlet(VerbsLifecycle.Register, "TorchLocation")]
[OutputType(typeof(LocationHandler))]
public sealed class RegisterTorchLocationCommand : PSCmdlet
{
    /// <summary>A name for the handler, used by Unregister-TorchLocation; registering a name again replaces
    /// it.</summary>
    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string Name { get; set; } = "";

    /// <summary>Lower numbers are tried first; torch's cpu handler is 10 and cuda 20.</summary>
    [Parameter(Mandatory = true, Position = 1)]
    public int Priority { get; set; }

    /// <summary>{ param($storage) ... } returning the tag to save the storage with, or nothing to pass.</summary>
    [Parameter]
    public ScriptBlock? Tagger { get; set; }

    /// <summary>{ param($storage, $location) ... } returning a device name (or the storage) for tags it handles, or
    /// nothing to pass.</summary>
    [Parameter]
    public ScriptBlock? Deserializer { get; set; }

    /// <summary>Returns the registered handler.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void EndProcessing()
    {
        if (Tagger is null && Deserializer is null)
        {
            ThrowTerminatingError(ErrorRecords.BadArgument(ErrorRecords.MissingHandler,
                "Give -Tagger, -Deserializer or both.", Name));
            return;
        }
        var tagger = Tagger is { } t ? s => RunspaceLocations.First(t, s)?.ToString() : (Func<Storage, string?>?)null;
        var deserializer = Deserializer is { } d ? (s, tag) =>
            RunspaceLocations.First(d, s, tag) : (Func<Storage, string, object?>?)null;
        var handler = RunspaceLocations.ForChange().Register(Name, Priority, tagger, deserializer);
        if (handler.CollidedLate)
            WriteWarning($"Priority {Priority} is already taken, so '{Name}' is tried after every other handler (torch behaves the same way).");
        if (PassThru) WriteObject(DisplayDefaults.For(this, handler));
    }
}
