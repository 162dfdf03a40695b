using System.Management.Automation;
using TorchSerial.Buffers.Remote;
using TorchSerial.Errors;
using TorchSerial.Scanning;
using TorchSerial.Toolbox;

namespace TorchSerial.PowerShell.Commands;

/// <summary>
/// Downloads remote checkpoints, verified and resumable: an hf:// file into the Hugging Face cache (so Python's
/// huggingface_hub finds it), or any http(s):// or hf:// file to -Destination. With -ScanFirst the file is scanned
/// where it is (by ranges) and an unsafe one is never downloaded. Emits each downloaded file.
/// </summary>
[Cmdlet(VerbsData.Save, "TorchCheckpoint", DefaultParameterSetName = PathSet, SupportsShouldProcess = true)]
[OutputType(typeof(FileInfo))]
public sealed class SaveTorchCheckpointCommand : CheckpointInputCmdlet
{
    /// <summary>Where the file goes: an existing folder (the file keeps its name) or a file path. Without it, hf://
    /// files go into the Hugging Face cache (HF_HUB_CACHE, else HF_HOME/hub), and URLs into the current folder.
    /// </summary>
    [Parameter(Position = 1)]
    [ValidateNotNullOrEmpty]
    public string? Destination { get; set; }

    /// <summary>Scans the remote file first (its pickles, by ranges, without its tensor data, with this command's
    /// -AllowGlobal and other load options) and downloads it only when the scan finds it loadable: Ok or Warning, as
    /// Test-TorchCheckpoint reports.</summary>
    [Parameter]
    public SwitchParameter ScanFirst { get; set; }

    /// <summary>Replaces a destination file that differs from the remote one, and downloads (and verifies) a cached
    /// blob again.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void ProcessRecord() => ForEachFile("Save-TorchCheckpoint", (address, progress) =>
    {
        if (!RemoteAddress.IsRemote(address))
            throw new TorchSerialException(ErrorIds.RemoteAddressInvalid, ErrorKind.InvalidArgument,
                $"'{address}' is not a remote address (hf://, http:// or https://); a local file needs no download.");
        string? file = Target(RemoteAddress.Parse(address));
        if (!ShouldProcess(file ?? $"the Hugging Face cache ({HubCache.DefaultRoot})", $"Download {address}"))
            return null;
        if (ScanFirst) EnsureSafe(address);
        return file is null
            ? CheckpointDownload.ToHubCache(address, null, Options.Remote, Force, progress, Cancel.Token)
            : CheckpointDownload.ToFile(address, file, Options.Remote, Force, progress, Cancel.Token);
    }, (address, result) =>
    {
        if (result is null) return;
        WriteVerbose($"{address}: {result.Length} bytes " + (result.AlreadyPresent ? "already there"
            : $"{(result.Resumed ? "resumed and " : "")}verified by {result.Verified}") +
            (result.Sha256.Length > 0 ? $", SHA-256 {result.Sha256}" : "") + $": {result.Path}");
        WriteObject(OutputFile.Item(this, result.Path));
    });

    /// <summary>The file to write, or null for the Hub cache.</summary>
    private string? Target(RemoteAddress address)
    {
        string name = System.IO.Path.GetFileName(address.IsHub ? address.PathInRepo! : address.Url.AbsolutePath);
        if (Destination is null)
            return address.IsHub ? null : System.IO.Path.Combine(SessionState.Path.CurrentFileSystemLocation.Path,
                name.Length > 0 ? name : "download");
        string path = SessionState.Path.GetUnresolvedProviderPathFromPSPath(Destination);
        return Directory.Exists(path) ? System.IO.Path.Combine(path, name) : path;
    }

    /// <summary>Scans the file where it is; one a load would refuse is DownloadRefused, and is not
    /// downloaded.</summary>
    private void EnsureSafe(string address)
    {
        var report = CheckpointScanner.Scan(address, Options, Cancel.Token);
        WriteVerbose($"{address}: scanned {report.Status}.");
        if (report.IsLoadable) return;
        string why = report.Message ?? string.Join("; ", report.Problems.Select(p => p.Message));
        throw new TorchSerialException(ErrorIds.DownloadRefused, ErrorKind.SecurityError,
            $"{address} was not downloaded: the scan found it {report.Status} ({report.ErrorId}: {why}). " +
                "Test-TorchCheckpoint shows the whole report.");
    }
}
