using TorchSerial.Scanning;
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
    /// <summary>Emits $true when Import-TorchCheckpoint would load the file with no problem found, else
    /// $false.</summary>
    [Parameter]
    public SwitchParameter Quiet { get; set; }

    /// <summary>Also reads every tensor's values and reports each tensor holding NaN or ±Inf as a NonFiniteTensor
    /// problem.</summary>
    [Parameter]
    public SwitchParameter Finite { get; set; }

    protected override void ProcessRecord() => ForEachFile("Test-TorchCheckpoint",
        (path, progress) => CheckpointScanner.Scan(path, Options.WithProgress(progress), Cancel.Token, Finite),
        (_, report) => WriteObject(Quiet ? report.Status == ScanStatus.Ok : report));
}
