using TorchSerial.Errors;
using TorchSerial.Python;
using TorchSerial.Tensors;
using TorchSerial.Toolbox;
using TorchSerial.Writing;
using System.Management.Automation;
using TorchSerial.PowerShell.Completion;

namespace TorchSerial.PowerShell.Commands;

/// <summary>
/// torch.save for PowerShell. One object given with -InputObject is saved as is; tensors piped in are
/// gathered into an OrderedDict state_dict keyed by their Name. The file is written atomically.
/// </summary>
[Cmdlet(VerbsData.Save, "Tensor", DefaultParameterSetName = PathSet, SupportsShouldProcess = true,
    ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(FileInfo))]
public sealed class SaveTensorCommand : PSCmdlet, IDisposable
{
    private const string PathSet = "Path";
    private const string LiteralPathSet = "LiteralPath";
    private readonly List<object?> _inputs = new();
    private readonly CancellationTokenSource _cancel = new();

    /// <summary>What to save: pipe tensors to build a state_dict, or give one object (a dict, a tensor, a list
    /// …).</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    [AllowNull]
    [AllowEmptyCollection]
    public object? InputObject { get; set; }

    /// <summary>The file to write. A wildcard must match exactly one existing file.</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = PathSet)]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = "";

    /// <summary>The file to write, exactly as typed.</summary>
    [Parameter(Mandatory = true, ParameterSetName = LiteralPathSet)]
    [Alias("PSPath", "LP")]
    [ValidateNotNullOrEmpty]
    public string LiteralPath { get; set; } = "";

    /// <summary>Also replaces a read-only file.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Refuses to replace an existing file.</summary>
    [Parameter]
    [Alias("NoOverwrite")]
    public SwitchParameter NoClobber { get; set; }

    /// <summary>Returns the FileInfo of the written file.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <summary>Writes the legacy (non-zip) stream of _use_new_zipfile_serialization=False.</summary>
    [Parameter]
    public SwitchParameter Legacy { get; set; }

    /// <summary>The pickle protocol, 2 (torch's default) to 5.</summary>
    [Parameter]
    [ValidateRange(2, 5)]
    [ArgumentCompleter(typeof(PickleProtocolCompleter))]
    public int PickleProtocol { get; set; } = 2;

    /// <summary>
    /// Torch (torch.save's zip), SafeTensors, or LibTorch (the zip as LibTorch's C++ writer makes it, for C++
    /// programs reading with torch::pickle_load: float8 and uint16-64 tensors as typed storages, which Python's
    /// torch.load does not read); by default SafeTensors for a .safetensors path, Torch otherwise. TorchScript is
    /// read, never written: an archive holds compiled code, which only torch.jit makes.
    /// </summary>
    [Parameter]
    [ValidateSet("Torch", "SafeTensors", "LibTorch", IgnoreCase = true)]
    public string? Format { get; set; }

    /// <summary>
    /// Writes a sharded set with shards of at most this size and a *.index.json, as huggingface_hub does: a number of
    /// bytes or a size with a unit. Units are decimal as Hugging Face's are ('5GB' is 5,000,000,000 bytes; KiB, MiB and
    /// GiB are binary). Quote it: unquoted, PowerShell reads 5GB as its own binary 5 GiB.
    /// </summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? MaxShardSize { get; set; }

    /// <summary>safetensors metadata to add to {"format": "pt"} (string values); for a sharded set it goes into the
    /// index.</summary>
    [Parameter]
    public System.Collections.IDictionary? Metadata { get; set; }

    /// <summary>
    /// safetensors: writes every tensor under its own name as its own contiguous copy, tied weights included (no
    /// name is recorded as an alias of another).
    /// </summary>
    [Parameter]
    public SwitchParameter CopySharedTensors { get; set; }

    /// <summary>
    /// safetensors: writes identical aliases (tied weights) once, as save_model does, and refuses, naming them, the
    /// views that would otherwise be written as copies of part of another tensor's memory.
    /// </summary>
    [Parameter]
    public SwitchParameter DeduplicateOnly { get; set; }

    /// <summary>Reads back what was written and compares every tensor's dtype, shape and bytes with its
    /// source.</summary>
    [Parameter]
    public SwitchParameter Verify { get; set; }

    protected override void ProcessRecord() => _inputs.Add(InputObject);

    protected override void EndProcessing()
    {
        // Failures are non-terminating ErrorRecords with their ids, as Set-Content's are: -ErrorAction decides whether
        // they stop the script, and -ErrorVariable holds the record itself.
        string? path = OutputFile.Resolve(this, ParameterSetName == LiteralPathSet ? LiteralPath : Path,
            literal: ParameterSetName == LiteralPathSet, WriteError);
        if (path is null) return;
        if (!TryBuildRoot(out object? root)) return;
        SaveLayout? layout = ChooseLayout(path);
        if (layout is null) return;
        if (!OutputFile.MayReplace(this, path, Force, NoClobber, WriteError)) return;
        string what = root is System.Collections.IDictionary d && _inputs.Count > 1
            ? $"Save {d.Count} tensors" : "Save checkpoint";
        if (!ShouldProcess(path, what)) return;
        if (!OutputFile.EnsureFolder(path, Force, WriteError)) return;

        var progress = new ProgressReporter(this, "Save-Tensor", $"Writing {path}");
        IReadOnlyList<string> written = Array.Empty<string>();
        try
        {
            var options = new SaveOptions
            {
                Layout = layout.Value,
                PickleProtocol = PickleProtocol,
                Normalize = o => o is PSObject ps ? ps.BaseObject : o,
                Progress = progress.Report,
                ItemProgress = (n, total) => progress.ReportItems(n, total,
                    layout.Value == SaveLayout.SafeTensors ? "tensors" : "storages"),
                Registry = RunspaceLocations.Current,
                Metadata = MetadataPairs(),
                CopySharedTensors = CopySharedTensors,
                DeduplicateOnly = DeduplicateOnly,
                Copied = name => WriteVerbose($"'{name}' is a view of another tensor's memory; safetensors cannot " +
                    "share it, so it is written as its own contiguous copy."),
                MaxShardSize = MaxShardSize is null ? null : ShardSize.Parse(MaxShardSize),
                ReplaceSet = Force,
            };
            written = CheckpointWriter.SaveFile(root, path, options, overwrite: true, _cancel.Token);
            if (Verify)
            {
                WriteVerbose($"Verifying '{written[0]}' against its source.");
                SaveVerifier.Verify(root, options.Normalize, written[0], _cancel.Token);
            }
            if (written.Count > 1) WriteVerbose($"Wrote a set of {written.Count - 1} shards: " +
                $"{string.Join(", ", written)}.");
        }
        catch (TorchSerialException ex)
        {
            WriteError(ErrorRecords.From(ex, path));
            return;
        }
        catch (FormatException ex)
        {
            WriteError(ErrorRecords.BadArgument(ErrorIds.InvalidSaveOption, ex.Message, MaxShardSize));
            return;
        }
        catch (OperationCanceledException)
        {
            throw new PipelineStoppedException();
        }
        finally
        {
            progress.Complete();
        }
        if (PassThru) foreach (var file in written) WriteObject(OutputFile.Item(this, file));
    }

    private SaveLayout? ChooseLayout(string path)
    {
        bool safe = Format is not null ? Format.Equals("SafeTensors", StringComparison.OrdinalIgnoreCase)
            : path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase);
        if (safe && (Legacy || PickleProtocol != 2))
        {
            WriteError(ErrorRecords.BadArgument(ErrorIds.InvalidSaveOption,
                "-Legacy and -PickleProtocol are torch.save options; safetensors has no pickle. Drop them or use " +
                    "-Format Torch.", path));
            return null;
        }
        if (!safe && Format is not null && path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase))
            WriteWarning($"Writing a torch file under the safetensors name '{System.IO.Path.GetFileName(path)}', as " +
                $"-Format Torch asks.");
        bool libTorch = Format?.Equals("LibTorch", StringComparison.OrdinalIgnoreCase) == true;
        if (libTorch && Legacy)
        {
            WriteError(ErrorRecords.BadArgument(ErrorIds.InvalidSaveOption,
                "-Legacy writes torch's pre-1.6 stream, which LibTorch's C++ reader does not read; drop one of them.",
                path));
            return null;
        }
        return safe ? SaveLayout.SafeTensors : Legacy ? SaveLayout.Legacy
            : libTorch ? SaveLayout.ZipLibTorch : SaveLayout.Zip;
    }

    private List<KeyValuePair<string, string>>? MetadataPairs()
    {
        if (Metadata is null) return null;
        var pairs = new List<KeyValuePair<string, string>>();
        foreach (System.Collections.DictionaryEntry e in Metadata)
            pairs.Add(new(LanguagePrimitives.ConvertTo<string>(e.Key), LanguagePrimitives.ConvertTo<string>(e.Value)
                ?? ""));
        return pairs;
    }

    protected override void StopProcessing() => _cancel.Cancel();

    public void Dispose() => _cancel.Dispose();

    /// <summary>
    /// Piped tensors become an OrderedDict keyed by Name; one object is saved as it is, and so is one piped tensor
    /// with no name (a file whose root is a tensor, read with -AsObject, round-trips as a root tensor).
    /// </summary>
    private bool TryBuildRoot(out object? root)
    {
        root = null;
        var items = _inputs.Select(i => i is PSObject ps ? ps.BaseObject : i).ToList();
        bool piped = MyInvocation.ExpectingInput;
        if (!piped || (items.Count == 1 && items[0] is not Tensor) || items is [Tensor { Name: "" }])
        {
            root = items.Count == 1 ? items[0] : new Python.PyList(items);
            return true;
        }
        var nonTensor = items.FirstOrDefault(i => i is not Tensor);
        if (nonTensor is not null || items.Count == 0)
        {
            WriteError(ErrorRecords.BadArgument(ErrorIds.InvalidSaveInput,
                items.Count == 0 ? "Nothing was piped to Save-Tensor." :
                $"Save-Tensor gathers piped tensors into a state_dict, but it also received " +
                    $"{(nonTensor is null ? "$null" : nonTensor.GetType().Name)}. " +
                "Pipe only tensors, or pass one object with -InputObject.", nonTensor));
            return false;
        }
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (Tensor t in items.Cast<Tensor>())
        {
            if (string.IsNullOrEmpty(t.Name) || !names.Add(t.Name))
            {
                WriteError(ErrorRecords.BadArgument(ErrorIds.InvalidSaveInput,
                    string.IsNullOrEmpty(t.Name)
                        ? "A piped tensor has no Name, and it is not the only one piped; give it one " +
                            "(ConvertTo-Tensor -Name) so it can be a state_dict key."
                        : $"Two piped tensors are both named '{t.Name}'; state_dict keys must be unique.", t));
                return false;
            }
        }
        root = Writing.PipedStateDict.Build(items.Cast<Tensor>().ToList());
        return true;
    }
}
