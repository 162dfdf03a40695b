using TorchSerial.Devices;
using TorchSerial.Errors;
using TorchSerial.Reading;
using TorchSerial.Tensors;
using TorchSerial.Torch;
using TorchSerial.Toolbox;
using System.Management.Automation;
using TorchSerial.PowerShell.Completion;

namespace TorchSerial.PowerShell.Commands;

/// <summary>
/// Places tensors on the devices -MapLocation gives (host, ILGPU CPU accelerator, CUDA), or rewrites the
/// location tags inside a checkpoint file without reading its tensor data.
/// </summary>
[Cmdlet(VerbsData.Convert, "DeviceMap", DefaultParameterSetName = TensorSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(Tensor), ParameterSetName = new[] { TensorSet })]
[OutputType(typeof(FileInfo), ParameterSetName = new[] { PathSet, LiteralPathSet })]
public sealed class ConvertDeviceMapCommand : PSCmdlet, IDisposable
{
    private const string TensorSet = "Tensor", PathSet = "Path", LiteralPathSet = "LiteralPath";
    private readonly List<Tensor> _tensors = new();
    private readonly CancellationTokenSource _cancel = new();

    /// <summary>Tensors to place; storages shared between them stay shared.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = TensorSet)]
    public Tensor[] InputObject { get; set; } = Array.Empty<Tensor>();

    /// <summary>The checkpoint file whose location tags are rewritten.</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = PathSet)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = "";

    /// <summary>The checkpoint file whose location tags are rewritten, exactly as typed.</summary>
    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = LiteralPathSet)]
    [Alias("PSPath", "LP")]
    [ValidateNotNullOrEmpty]
    public string LiteralPath { get; set; } = "";

    /// <summary>The file to write; it may be the source itself (replaced atomically).</summary>
    [Parameter(Mandatory = true, Position = 1, ParameterSetName = PathSet)]
    [Parameter(Mandatory = true, Position = 1, ParameterSetName = LiteralPathSet)]
    [ValidateNotNullOrEmpty]
    public string Destination { get; set; } = "";

    /// <summary>Where storages go: a device name, a hashtable of tag → device, or { param($storage, $location) ... }.</summary>
    [Parameter(Mandatory = true)]
    [ArgumentCompleter(typeof(LocationCompleter))]
    public object? MapLocation { get; set; }

    /// <summary>Also replaces a read-only destination.</summary>
    [Parameter(ParameterSetName = PathSet)]
    [Parameter(ParameterSetName = LiteralPathSet)]
    public SwitchParameter Force { get; set; }

    /// <summary>Refuses to replace an existing destination.</summary>
    [Parameter(ParameterSetName = PathSet)]
    [Parameter(ParameterSetName = LiteralPathSet)]
    public SwitchParameter NoClobber { get; set; }

    /// <summary>Returns the FileInfo of the written file.</summary>
    [Parameter(ParameterSetName = PathSet)]
    [Parameter(ParameterSetName = LiteralPathSet)]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        if (ParameterSetName == TensorSet) _tensors.AddRange(InputObject);
    }

    protected override void EndProcessing()
    {
        var map = MapLocationArgument.Parse(this, MapLocation);
        try
        {
            if (ParameterSetName == TensorSet)
            {
                foreach (var t in DevicePlacement.Place(_tensors, map, RunspaceLocations.Current)) WriteObject(t);
                return;
            }
            RewriteFile(map);
        }
        catch (TorchSerialException ex)
        {
            ThrowTerminatingError(ErrorRecords.From(ex, ParameterSetName == TensorSet ? null : SourcePath()));
        }
        catch (OperationCanceledException)
        {
            throw new PipelineStoppedException();
        }
    }

    private string? SourcePath()
    {
        var input = ParameterSetName == LiteralPathSet ? LiteralPath : Path;
        var resolved = ParameterSetName == LiteralPathSet
            ? new[] { SessionState.Path.GetUnresolvedProviderPathFromPSPath(input) }
            : GetResolvedProviderPathFromPSPath(input, out _).ToArray();
        if (resolved.Length != 1 || !File.Exists(resolved[0]))
        {
            ThrowTerminatingError(resolved.Length == 1 ? ErrorRecords.PathNotFound(input)
                : ErrorRecords.BadArgument("AmbiguousPath", $"'{input}' matches {resolved.Length} files; give exactly one.", input));
            return null;
        }
        return resolved[0];
    }

    private void RewriteFile(MapLocation map)
    {
        string? source;
        try { source = SourcePath(); }
        catch (ItemNotFoundException ex) { ThrowTerminatingError(ErrorRecords.PathNotFound(Path, ex)); return; }
        if (source is null) return;
        string? destination = OutputFile.Resolve(this, Destination, literal: true);
        if (destination is null) return;
        var options = new LoadOptions { Registry = RunspaceLocations.Current };
        var plan = CheckpointRetagger.Plan(source, map, options);
        string summary = plan.Count == 0 ? "no location tag changes"
            : string.Join(", ", plan.GroupBy(c => (c.From, c.To)).Select(g => $"{g.Key.From} -> {g.Key.To} ({g.Count()} storage{(g.Count() == 1 ? "" : "s")})"));
        WriteVerbose($"'{source}': {summary}");
        foreach (var c in plan) WriteVerbose($"storage {c.StorageKey}: {c.From} -> {c.To}");
        if (!OutputFile.MayReplace(this, destination, Force, NoClobber)) return;
        if (!ShouldProcess(destination, $"Rewrite location tags of '{source}': {summary}")) return;
        var progress = new ProgressReporter(this, "Convert-DeviceMap", $"Writing {destination}");
        try { CheckpointRetagger.Rewrite(source, destination, map, options, overwrite: true, progress.Report, _cancel.Token); }
        finally { progress.Complete(); }
        if (PassThru) WriteObject(OutputFile.Item(this, destination));
    }

    protected override void StopProcessing() => _cancel.Cancel();

    public void Dispose() => _cancel.Dispose();
}
