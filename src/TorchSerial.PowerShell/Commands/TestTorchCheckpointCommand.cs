using System.Management.Automation;

namespace TorchSerial.PowerShell.Commands;

/// <summary>
/// Diagnoses checkpoints without loading their tensor data: format, records, every global with a verdict,
/// problems, and a status that agrees with what Import-TorchCheckpoint would do. -Quiet answers $true/$false.
/// </summary>
[Cmdlet(VerbsDiagnostic.Test, "TorchCheckpoint", DefaultParameterSetName = PathSet)]
[OutputType(typeof(ScanReport))]
[OutputType(typeof(bool))]
public sealed class TestTorchCheckpointCommand : CheckpointInputCmdlet
{

    /// <summary>Emits $true when Import-TorchCheckpoint would load the file with no problem found, else $false.</summary>
    [Parameter]
    public SwitchParameter Quiet { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var path in ResolveInputPaths())
        {
            ScanReport report;
            var progress = new ProgressReporter(this, "Test-TorchCheckpoint", $"Checking CRC-32s of {path}");
            try
            {
                report = CheckpointScanner.Scan(path, Options.WithProgress(progress.Report), Cancel.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (TorchSerialException ex)
            {
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
            if (Quiet) WriteObject(report.Status == ScanStatus.Ok);
            else WriteObject(report);
        }
    }

}
