using TorchSerial.Devices;
using TorchSerial.Errors;
using TorchSerial.Reading;
using TorchSerial.Tensors;
using TorchSerial.Toolbox;
using TorchSerial.Torch;
using System.Management.Automation;
using TorchSerial.PowerShell.Completion;

namespace TorchSerial.PowerShell.Commands;

/// <summary>
/// Places tensors on the devices -MapLocation gives (host, ILGPU CPU accelerator, CUDA), or rewrites the
/// location tags inside checkpoint files without reading their tensor data.
/// </summary>
[Cmdlet(VerbsData.Convert, "DeviceMap", DefaultParameterSetName = TensorSet, SupportsShouldProcess = true,
    ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(Tensor), ParameterSetName = new[] { TensorSet })]
[OutputType(typeof(FileInfo), ParameterSetName = new[] { PathSet, LiteralPathSet })]
public sealed class ConvertDeviceMapCommand : InputPathCmdlet, IDisposable
{
    private const string TensorSet = "Tensor";
    private readonly List<Tensor> _tensors = new();
    private readonly List<string> _sources = new();
    private readonly CancellationTokenSource _cancel = new();

    /// <summary>Tensors to place; storages shared between them stay shared.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = TensorSet)]
    public Tensor[] InputObject { get; set; } = Array.Empty<Tensor>();

    /// <summary>
    /// Where each rewritten file goes: a file (one input; it may be the source itself, replaced atomically), an
    /// existing folder (each input keeps its name there), or { param($file) ... } returning each input's file.
    /// </summary>
    [Parameter(Mandatory = true, Position = 1, ParameterSetName = PathSet)]
    [Parameter(Mandatory = true, Position = 1, ParameterSetName = LiteralPathSet)]
    [ValidateNotNull]
    public object Destination { get; set; } = "";

    /// <summary>Where storages go: a device name, a hashtable of tag → device, or { param($storage, $location) ...
    /// }.</summary>
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

    /// <summary>Returns the file item of each written file.</summary>
    [Parameter(ParameterSetName = PathSet)]
    [Parameter(ParameterSetName = LiteralPathSet)]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        if (ParameterSetName == TensorSet) _tensors.AddRange(InputObject);
        else _sources.AddRange(ResolveInputPaths());
    }

    protected override void EndProcessing()
    {
        var map = MapLocationArgument.Parse(this, MapLocation);
        if (ParameterSetName == TensorSet)
        {
            try
            {
                foreach (var t in DevicePlacement.Place(_tensors, map, RunspaceLocations.Current))
                    WriteObject(DisplayDefaults.For(this, t));
            }
            catch (TorchSerialException ex) { ThrowTerminatingError(ErrorRecords.From(ex, null)); }
            catch (OperationCanceledException) { throw new PipelineStoppedException(); }
            return;
        }
        // Every destination is known before the first file is written, so inputs that would land on one file are
        // refused with nothing written, not discovered after the first has been replaced.
        var plan = _sources.Distinct(StringComparer.Ordinal).Select(s =>
            (Source: s, Target: DestinationOf(s))).ToList();
        if (plan.Any(p => p.Target is null)) return;
        var collision = plan.GroupBy(p => p.Target!, PathComparer).FirstOrDefault(g => g.Count() > 1);
        if (collision is not null)
            ThrowTerminatingError(ErrorRecords.SameDestination(collision.Key, collision.Select(p => p.Source)));
        foreach (var (source, target) in plan)
        {
            try { RewriteFile(source, target!, map); }
            catch (TorchSerialException ex) { WriteError(ErrorRecords.ForFile(ex, source)); }
            catch (OperationCanceledException) { throw new PipelineStoppedException(); }
        }
    }

    private static StringComparer PathComparer => OperatingSystem.IsLinux() ? StringComparer.Ordinal
        : StringComparer.OrdinalIgnoreCase;

    private string? DestinationOf(string source)
    {
        object? value = Destination is PSObject ps ? ps.BaseObject : Destination;
        string? named;
        if (value is ScriptBlock block)
        {
            var file = new FileInfo(source);
            var results = block.InvokeWithContext(null, new List<PSVariable> { new("_", file) }, file);
            named = results.Count == 1 ? results[0]?.BaseObject?.ToString() : null;
            if (string.IsNullOrEmpty(named))
            {
                ThrowTerminatingError(ErrorRecords.BadArgument(ErrorRecords.InvalidDestination,
                    $"The -Destination script block returned {results.Count} value(s) for '{source}'; it must return " +
                    "one file path per input.", source));
                return null;
            }
        }
        else named = LanguagePrimitives.ConvertTo<string>(value);
        string full = SessionState.Path.GetUnresolvedProviderPathFromPSPath(named);
        if (Directory.Exists(full)) named = System.IO.Path.Combine(full, System.IO.Path.GetFileName(source));
        else if (named.EndsWith('/') || named.EndsWith(System.IO.Path.DirectorySeparatorChar))
        {
            ThrowTerminatingError(ErrorRecords.PathNotFound(named));
            return null;
        }
        return OutputFile.Resolve(this, named, literal: true);
    }

    private void RewriteFile(string source, string destination, MapLocation map)
    {
        var options = new LoadOptions { Registry = RunspaceLocations.Current };
        var plan = CheckpointRetagger.Plan(source, map, options);
        string summary = plan.Count == 0 ? "no location tag changes"
            : string.Join(", ", plan.GroupBy(c => (c.From, c.To)).Select(g =>
                $"{g.Key.From} -> {g.Key.To} ({g.Count()} storage{(g.Count() == 1 ? "" : "s")})"));
        WriteVerbose($"'{source}': {summary}");
        foreach (var c in plan) WriteVerbose($"storage {c.StorageKey}: {c.From} -> {c.To}");
        if (!OutputFile.MayReplace(this, destination, Force, NoClobber)) return;
        if (!ShouldProcess(destination, $"Rewrite location tags of '{source}': {summary}")) return;
        if (!OutputFile.EnsureFolder(destination, Force, ThrowTerminatingError)) return;
        var progress = new ProgressReporter(this, "Convert-DeviceMap", $"Writing {destination}");
        try
        {
            CheckpointRetagger.Rewrite(source, destination, map, options, overwrite: true, progress.Report,
                _cancel.Token);
        }
        finally { progress.Complete(); }
        if (PassThru) WriteObject(OutputFile.Item(this, destination));
    }

    protected override void StopProcessing() => _cancel.Cancel();

    public void Dispose() => _cancel.Dispose();
}
