using System.Management.Automation;
using TorchSerial.Errors;
using TorchSerial.Tensors;

namespace TorchSerial.PowerShell.Commands;

/// <summary>
/// Base for cmdlets that compute one result per piped tensor (Measure-Tensor, Get-TensorHash): the tensor
/// parameter, Ctrl+C between chunks, and a failing tensor as a non-terminating error naming its file.
/// </summary>
public abstract class TensorCmdlet : PSCmdlet, IDisposable
{
    private readonly CancellationTokenSource _cancel = new();

    /// <summary>A tensor, usually piped from Import-TorchCheckpoint (-Lazy streams each tensor's bytes once).</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, Position = 0)]
    public Tensor InputObject { get; set; } = null!;

    /// <summary>The result for one tensor.</summary>
    protected abstract object Compute(Tensor tensor, CancellationToken cancellationToken);

    protected override void ProcessRecord()
    {
        try
        {
            WriteObject(Compute(InputObject, _cancel.Token));
        }
        catch (TorchSerialException ex)
        {
            WriteError(ErrorRecords.From(ex, InputObject.SourceFile ?? InputObject.Name));
        }
        catch (OperationCanceledException)
        {
            throw new PipelineStoppedException();
        }
    }

    protected override void StopProcessing() => _cancel.Cancel();

    public void Dispose() => _cancel.Dispose();
}
