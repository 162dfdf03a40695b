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

    /// <summary>Read no tensor data now: metadata at once, each storage's bytes on first use. The file stays open while its tensors live.</summary>
    [Parameter]
    public SwitchParameter Lazy { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var path in ResolveInputPaths())
        {
            Checkpoint checkpoint;
            var progress = new ProgressReporter(this, "Import-TorchCheckpoint", $"Reading {path}");
            try
            {
                WriteVerbose($"Loading '{path}'{(Lazy ? " lazily" : "")}.");
                checkpoint = Lazy
                    ? CheckpointReader.Open(path, Options)
                    : CheckpointReader.Load(path, Options.WithProgress(progress.Report), Cancel.Token);
            }
            catch (TorchSerialException ex)
            {
                if (ex.ErrorId == ErrorIds.Stopped) return;
                WriteError(ErrorRecords.From(ex, path));
                continue;
            }
            catch (Exception ex) when (ex is not PipelineStoppedException)
            {
                WriteError(ErrorRecords.Unexpected(ex, path));
                continue;
            }
            finally
            {
                progress.Complete();
            }
            WriteVerbose($"'{path}': {checkpoint.Format} checkpoint, {checkpoint.Tensors.Count} tensors over {checkpoint.Storages.Count} storages.");
            if (AsObject) WriteObject(checkpoint.Root, enumerateCollection: false);
            else foreach (var tensor in checkpoint.Tensors) WriteObject(tensor);
        }
    }

}
