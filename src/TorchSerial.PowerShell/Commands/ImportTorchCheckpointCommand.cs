using TorchSerial.Reading;
using TorchSerial.Tensors;
using TorchSerial.Toolbox;
using System.Management.Automation;

namespace TorchSerial.PowerShell.Commands;

/// <summary>
/// torch.load for PowerShell: emits each tensor of a checkpoint (or, with -AsObject, the whole object).
/// Safe by default: only torch's weights-only allow-list of globals is accepted, and nothing in a file runs.
/// </summary>
[Cmdlet(VerbsData.Import, "TorchCheckpoint", DefaultParameterSetName = PathSet)]
[OutputType(typeof(Tensor))]
[OutputType(typeof(object))]
public sealed class ImportTorchCheckpointCommand : CheckpointInputCmdlet
{
    /// <summary>Emit the whole loaded object (what torch.load returns) instead of one tensor per record.</summary>
    [Parameter]
    public SwitchParameter AsObject { get; set; }

    /// <summary>
    /// A key path into the loaded object (model, state_dict, model.module, optimizer.state.0): only that sub-object
    /// is emitted, its tensors named relative to it, as load_state_dict expects them.
    /// </summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.CheckpointKeyCompleter))]
    public string? Key { get; set; }

    /// <summary>Read no tensor data now: metadata at once, each storage's bytes on first use. The file stays open while
    /// its tensors live.</summary>
    [Parameter]
    public SwitchParameter Lazy { get; set; }

    protected override void ProcessRecord() => ForEachFile("Import-TorchCheckpoint",
        (path, progress) =>
        {
            WriteVerbose($"Loading '{path}'{(Lazy ? " lazily" : "")}.");
            if (Key is null)
                return (Checkpoint: Lazy ? CheckpointReader.Open(path, Options, Cancel.Token)
                    : CheckpointReader.Load(path, Options.WithProgress(progress), Cancel.Token),
                    Selected: (Selection?)null);
            // -Key opens the file lazily and, unless -Lazy, reads only the sub-object's storages (of a remote file,
            // only their ranges): an optimizer state next to the model is never read.
            var checkpoint = CheckpointReader.Open(path, Options, Cancel.Token);
            try
            {
                var sub = new Selection(SubObject.Select(checkpoint, Key));
                if (!Lazy)
                {
                    checkpoint.LoadTensors(SubObject.Tensors(sub.Value), Options.WithProgress(progress), Cancel.Token);
                    checkpoint.Dispose();
                }
                return (Checkpoint: checkpoint, Selected: (Selection?)sub);
            }
            catch
            {
                checkpoint.Dispose();
                throw;
            }
        },
        (path, loaded) =>
        {
            var (checkpoint, selected) = loaded;
            WriteVerbose($"'{path}': {checkpoint.Format} checkpoint, {checkpoint.Tensors.Count} tensors over " +
                $"{checkpoint.Storages.Count} storages.");
            if (selected is null)
            {
                if (AsObject) WriteObject(DisplayDefaults.For(this, checkpoint.Root), enumerateCollection: false);
                else foreach (var tensor in checkpoint.Tensors) WriteObject(DisplayDefaults.For(this, tensor));
                return;
            }
            if (AsObject) WriteObject(DisplayDefaults.For(this, selected.Value), enumerateCollection: false);
            else foreach (var tensor in SubObject.Tensors(selected.Value))
                WriteObject(DisplayDefaults.For(this, tensor));
        });

    /// <summary>The sub-object -Key names (which may itself be null).</summary>
    private sealed record Selection(object? Value);
}
