using System.Management.Automation;
using TorchSerial.Errors;
using TorchSerial.Reading;
using TorchSerial.Tensors;

namespace TorchSerial.PowerShell.Commands;

/// <summary>
/// Base for cmdlets that compute one result per tensor (Measure-Tensor, Get-TensorHash): tensors piped in (usually
/// from Import-TorchCheckpoint -Lazy), or the checkpoints named by -Path/-LiteralPath (or piped from Get-ChildItem),
/// each opened lazily so every tensor's bytes are streamed once. Ctrl+C stops between chunks; a failing tensor is a
/// non-terminating error naming its file.
/// </summary>
public abstract class TensorCmdlet : CheckpointInputCmdlet
{
    protected const string TensorSet = "InputObject";

    /// <summary>A tensor, usually piped from Import-TorchCheckpoint (-Lazy streams each tensor's bytes once).</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, Position = 0, ParameterSetName = TensorSet)]
    public Tensor InputObject { get; set; } = null!;

    /// <summary>The result for one tensor.</summary>
    protected abstract object Compute(Tensor tensor, CancellationToken cancellationToken);

    protected override void ProcessRecord()
    {
        if (ParameterSetName == TensorSet)
        {
            Emit(InputObject);
            return;
        }
        ForEachFile(MyInvocation.MyCommand.Name, (path, progress) =>
        {
            using var checkpoint = CheckpointReader.Open(path, Options, Cancel.Token);
            long done = 0, total = checkpoint.Tensors.Count;
            foreach (var tensor in checkpoint.Tensors)
            {
                Cancel.Token.ThrowIfCancellationRequested();
                Emit(tensor);
                progress(++done, total);
            }
            return done;
        }, (_, _) => { });
    }

    private void Emit(Tensor tensor)
    {
        try
        {
            WriteObject(DisplayDefaults.For(this, Compute(tensor, Cancel.Token)));
        }
        catch (TorchSerialException ex)
        {
            WriteError(ErrorRecords.From(ex, tensor.SourceFile ?? tensor.Name));
        }
        catch (OperationCanceledException)
        {
            throw new PipelineStoppedException();
        }
    }
}
