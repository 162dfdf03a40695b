using System.Collections;
using System.Management.Automation;
using TorchSerial.Pickle;
using TorchSerial.PowerShell.Completion;

namespace TorchSerial.PowerShell.Commands;

/// <summary>
/// torch.load for PowerShell: emits each tensor of a checkpoint (or, with -AsObject, the whole object).
/// Safe by default: only torch's weights-only allow-list of globals is accepted, and nothing in a file runs.
/// </summary>
[Cmdlet(VerbsData.Import, "TorchCheckpoint", DefaultParameterSetName = PathSet)]
[OutputType(typeof(Tensor))]
[OutputType(typeof(object))]
public sealed class ImportTorchCheckpointCommand : InputPathCmdlet, IDisposable
{
    private readonly CancellationTokenSource _cancel = new();

    /// <summary>Emit the whole loaded object (what torch.load returns) instead of one tensor per record.</summary>
    [Parameter]
    public SwitchParameter AsObject { get; set; }

    /// <summary>Globals to admit beyond the default allow-list, as module.name patterns with wildcards; admitted globals load as inert objects.</summary>
    [Parameter]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(AllowGlobalCompleter))]
    public string[] AllowGlobal { get; set; } = Array.Empty<string>();

    /// <summary>How Python 2 byte strings are decoded, as torch.load's encoding argument.</summary>
    [Parameter]
    [ValidateSet("utf-8", "latin1", "bytes", "ascii", IgnoreCase = true)]
    public string Encoding { get; set; } = "utf-8";

    /// <summary>Where storages go: a device name such as 'cpu' for every storage, or a hashtable that maps saved location tags to others.</summary>
    [Parameter]
    [ArgumentCompleter(typeof(LocationCompleter))]
    public object? MapLocation { get; set; }

    private LoadOptions? _options;

    protected override void BeginProcessing()
    {
        var (map, table) = ParseMapLocation(MapLocation);
        _options = new LoadOptions
        {
            Policy = AllowGlobal.Length == 0 ? GlobalPolicy.Default : new GlobalPolicy(AllowGlobal),
            Encoding = Encoding.ToLowerInvariant() switch
            {
                "latin1" => StringEncoding.Latin1,
                "bytes" => StringEncoding.Bytes,
                "ascii" => StringEncoding.Ascii,
                _ => StringEncoding.Utf8,
            },
            MapLocation = map,
            LocationMap = table,
        };
    }

    protected override void ProcessRecord()
    {
        foreach (var path in ResolveInputPaths())
        {
            Checkpoint checkpoint;
            try
            {
                WriteVerbose($"Loading '{path}'.");
                checkpoint = CheckpointReader.Load(path, _options, _cancel.Token);
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
            WriteVerbose($"'{path}': {checkpoint.Format} checkpoint, {checkpoint.Tensors.Count} tensors over {checkpoint.Storages.Count} storages.");
            if (AsObject) WriteObject(checkpoint.Root, enumerateCollection: false);
            else foreach (var tensor in checkpoint.Tensors) WriteObject(tensor);
        }
    }

    protected override void StopProcessing() => _cancel.Cancel();

    public void Dispose() => _cancel.Dispose();

    private (string?, IReadOnlyDictionary<string, string>?) ParseMapLocation(object? value)
    {
        switch (value is PSObject ps ? ps.BaseObject : value)
        {
            case null:
                return (null, null);
            case string s when !string.IsNullOrWhiteSpace(s):
                return (s.Trim(), null);
            case IDictionary d:
                var table = new Dictionary<string, string>(StringComparer.Ordinal);
                foreach (DictionaryEntry e in d)
                    table[e.Key?.ToString() ?? ""] = (e.Value is PSObject pv ? pv.BaseObject : e.Value)?.ToString() ?? "";
                return (null, table);
            default:
                ThrowTerminatingError(ErrorRecords.BadArgument(ErrorRecords.InvalidMapLocation,
                    $"-MapLocation takes a device name such as 'cpu' or a hashtable such as @{{ 'cuda:1' = 'cpu' }}; got {value}.", value));
                return (null, null);
        }
    }
}
