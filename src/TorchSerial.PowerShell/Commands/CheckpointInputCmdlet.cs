using TorchSerial.Devices;
using TorchSerial.Errors;
using TorchSerial.Pickle;
using TorchSerial.Reading;
using TorchSerial.Torch;
using System.Management.Automation;
using TorchSerial.PowerShell.Completion;

namespace TorchSerial.PowerShell.Commands;

/// <summary>
/// Base for cmdlets that read checkpoints: the input paths plus the options that decide what a load does
/// (-AllowGlobal, -Encoding, -MapLocation), so Import-TorchCheckpoint and Test-TorchCheckpoint agree.
/// </summary>
public abstract class CheckpointInputCmdlet : InputPathCmdlet, IDisposable
{
    /// <summary>Cancelled by Ctrl+C (StopProcessing); the core checks it between chunks.</summary>
    protected CancellationTokenSource Cancel { get; } = new();

    protected override void StopProcessing() => Cancel.Cancel();

    public void Dispose() => Cancel.Dispose();

    /// <summary>Globals to admit beyond the default allow-list, as module.name patterns with wildcards; admitted
    /// globals load as inert objects.</summary>
    [Parameter]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(AllowGlobalCompleter))]
    public string[] AllowGlobal { get; set; } = Array.Empty<string>();

    /// <summary>How Python 2 byte strings are decoded, as torch.load's encoding argument.</summary>
    [Parameter]
    [ValidateSet("utf-8", "latin1", "bytes", "ascii", IgnoreCase = true)]
    public string Encoding { get; set; } = "utf-8";

    /// <summary>Where storages go: a device name ('cpu', 'ilgpu-cpu', 'cuda:0'), a hashtable that maps saved tags to
    /// devices, or a script block { param($storage, $location) ... }.</summary>
    [Parameter]
    [ArgumentCompleter(typeof(LocationCompleter))]
    public object? MapLocation { get; set; }

    /// <summary>Skips the CRC-32 check of zip records, to recover what a damaged file still holds (torch never
    /// checks).</summary>
    [Parameter]
    public SwitchParameter SkipCrc { get; set; }

    /// <summary>Loads a sharded set even when its index and shards disagree, with each problem as a warning.</summary>
    [Parameter]
    public SwitchParameter SkipIndexCheck { get; set; }

    /// <summary>The estimated memory one pickle's values may take (default 512MB); raise it only for a trusted file
    /// that
    /// really builds more.</summary>
    [Parameter]
    [ValidateRange(1L << 20, long.MaxValue)]
    public long PickleMemoryLimit { get; set; } = LoadOptions.DefaultMaxPickleBytes;

    /// <summary>A bearer token for remote addresses, sent to the address's own host only (never to a host it
    /// redirects to). For hf:// the default is HF_TOKEN, else the token file huggingface_hub writes.</summary>
    [Parameter]
    public System.Security.SecureString? Token { get; set; }

    /// <summary>Accepts any TLS certificate from a remote server (a self-signed internal store), as the web cmdlets'
    /// -SkipCertificateCheck.</summary>
    [Parameter]
    public SwitchParameter SkipCertificateCheck { get; set; }

    /// <summary>Seconds a remote request may wait for an answer, or for the next bytes of one, before it is retried
    /// (4 times, then a RemoteTimeout error). Default 30.</summary>
    [Parameter]
    [ValidateRange(1, 86400)]
    public int TimeoutSec { get; set; } = 30;

    protected LoadOptions Options { get; private set; } = new();

    /// <summary>
    /// Runs <paramref name="work"/> on each input file with progress, and emits its result. A failing file becomes a
    /// non-terminating ErrorRecord (its stable id, or UnexpectedFailure) and the next file goes on; Ctrl+C stops the
    /// loop.
    /// </summary>
    protected void ForEachFile<T>(string activity, Func<string, Action<long, long>, T> work, Action<string, T> emit,
        Action? onFailure = null)
    {
        PathFailed = onFailure;
        foreach (var path in ResolveInputPaths())
        {
            T result;
            var progress = new ProgressReporter(this, activity, path);
            try
            {
                result = work(path, progress.Report);
            }
            catch (Exception ex) when (ex is OperationCanceledException
                || ex is TorchSerialException { ErrorId: ErrorIds.Stopped })
            {
                return;
            }
            catch (TorchSerialException ex)
            {
                onFailure?.Invoke();
                WriteError(ErrorRecords.ForFile(ex, path));
                continue;
            }
            catch (Exception ex) when (ex is not PipelineStoppedException)
            {
                onFailure?.Invoke();
                WriteError(ErrorRecords.Unexpected(ex, path));
                continue;
            }
            finally
            {
                progress.Complete();
            }
            emit(path, result);
        }
    }

    protected override void BeginProcessing()
    {
        Options = new LoadOptions
        {
            Devices = IlgpuPlatform.Instance,
            Policy = AllowGlobal.Length == 0 ? GlobalPolicy.Default : new GlobalPolicy(AllowGlobal),
            Encoding = Encoding.ToLowerInvariant() switch
            {
                "latin1" => StringEncoding.Latin1,
                "bytes" => StringEncoding.Bytes,
                "ascii" => StringEncoding.Ascii,
                _ => StringEncoding.Utf8,
            },
            MapLocation = MapLocationArgument.Parse(this, MapLocation),
            Registry = RunspaceLocations.Current,
            VerifyCrc = !SkipCrc,
            MaxPickleBytes = PickleMemoryLimit,
            Warning = SkipIndexCheck ? WriteWarning : null,
            Remote = RemoteInputs.Options(Token, SkipCertificateCheck, TimeoutSec),
        };
    }
}
