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

    /// <summary>Emits one SARIF 2.1.0 log (a JSON string) for all the files given, for CI code-scanning
    /// uploads.</summary>
    [Parameter]
    public SwitchParameter AsSarif { get; set; }

    /// <summary>
    /// With -AsSarif: the folder artifact URIs are made relative to, as %SRCROOT% (the repository root a code-scanning
    /// upload resolves them against). The current folder by default.
    /// </summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? SarifRoot { get; set; }

    private readonly List<ScanReport> _reports = new();
    private bool _allOk = true, _any;

    protected override void ProcessRecord()
    {
        // A file that cannot even be opened (missing, a folder) is not Ok either.
        ForEachFile("Test-TorchCheckpoint",
            (path, progress) => CheckpointScanner.Scan(path, Options.WithProgress(progress), Cancel.Token, Finite),
            (_, report) =>
            {
                _any = true;
                if (Quiet) _allOk &= report.Status == nameof(ScanStatus.Ok);
                else if (AsSarif) _reports.Add(report);
                else WriteObject(DisplayDefaults.For(this, report));
            },
            onFailure: () => _allOk = false);
    }

    protected override void EndProcessing()
    {
        if (Quiet)
        {
            // A gate over nothing answers no, and says why: an empty folder or a pattern that matched nothing is
            // the missing-artifacts case a CI step must not pass. Inputs that failed have their own errors already.
            if (!_any && _allOk) WriteWarning("No checkpoint was given to test (an empty folder, a pattern that " +
                "matched nothing, an empty pipe), so -Quiet answers $false.");
            WriteObject(_any && _allOk);
        }
        else if (AsSarif)
            WriteObject(SarifLog.Write(_reports,
                typeof(TestTorchCheckpointCommand).Assembly.GetName().Version?.ToString(3) ?? "0",
                SarifRoot is null ? SessionState.Path.CurrentFileSystemLocation.ProviderPath
                    : SessionState.Path.GetUnresolvedProviderPathFromPSPath(SarifRoot)));
    }
}
