using System.Management.Automation;
using TorchSerial.Errors;
using TorchSerial.Reading;
using TorchSerial.Tensors;
using TorchSerial.Toolbox;

namespace TorchSerial.PowerShell.Commands;

/// <summary>
/// Averages checkpoints (the last epochs, a weight soup, task arithmetic): the merged tensors go to the pipeline in
/// the first checkpoint's order, named as the inputs name them, computed only as they are read, so
/// <c>| Save-Tensor avg.pt</c> streams a state_dict that <c>load_state_dict</c> accepts. A thin cmdlet over
/// <see cref="CheckpointAverage"/>.
/// </summary>
[Cmdlet(VerbsData.Merge, "TorchCheckpoint", DefaultParameterSetName = PathSet)]
[OutputType(typeof(Tensor))]
public sealed class MergeTorchCheckpointCommand : CheckpointInputCmdlet
{
    private readonly List<string> _paths = new();

    /// <summary>One weight a checkpoint, in order; the uniform 1/N when left out. They need not sum to 1.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public double[]? Weight { get; set; }

    /// <summary>The sub-object of each checkpoint to merge (model, state_dict); names are relative to it.</summary>
    [Parameter]
    [ArgumentCompleter(typeof(Completion.CheckpointKeyCompleter))]
    public string? Key { get; set; }

    /// <summary>PEFT LoRA adapter folders (adapter_config.json and adapter_model.safetensors) to merge into the one
    /// base checkpoint, in order.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? AdapterPath { get; set; }

    /// <summary>Scales every adapter's update (1, the default, merges it as trained).</summary>
    [Parameter]
    public double AdapterScale { get; set; } = 1;

    /// <summary>Computes the adapters' low-rank products on an ILGPU accelerator ('ilgpu-cpu', 'cuda:0') instead of
    /// the host's cores; the merged bytes are the same.</summary>
    [Parameter]
    [ArgumentCompleter(typeof(Completion.AcceleratorCompleter))]
    [ValidateNotNullOrEmpty]
    public string? Device { get; set; }

    protected override void ProcessRecord() => _paths.AddRange(ResolveInputPaths());

    protected override void EndProcessing()
    {
        if (_paths.Count == 0) return; // every input was already reported
        var inputs = new List<(string File, IReadOnlyList<Tensor> Tensors)>();
        foreach (var path in _paths)
        {
            try
            {
                var checkpoint = CheckpointReader.Open(path, Options, Cancel.Token);
                var tensors = Key is null ? checkpoint.Tensors : SubObject.Tensors(SubObject.Select(checkpoint, Key));
                inputs.Add((path, tensors));
            }
            catch (TorchSerialException ex)
            {
                ThrowTerminatingError(ErrorRecords.ForFile(ex, path));
            }
        }
        IReadOnlyList<Tensor> merged;
        if (AdapterPath is not null)
        {
            if (inputs.Count != 1 || Weight is not null)
                ThrowTerminatingError(ErrorRecords.BadArgument(ErrorIds.MergeWeightsInvalid,
                    "-AdapterPath merges adapters into one base checkpoint: give exactly one -Path and no -Weight.",
                    string.Join(", ", _paths)));
            merged = inputs[0].Tensors;
            LowRankProduct? product = null;
            if (Device is not null && Device != "cpu")
            {
                try { product = new Devices.DeviceLowRankProduct(Device); }
                catch (TorchSerialException ex) { ThrowTerminatingError(ErrorRecords.From(ex, Device)); }
                WriteVerbose($"Computing the adapters' low-rank products on {Device}.");
            }
            var opened = new List<IDisposable>();
            foreach (var adapter in AdapterPath)
            {
                string folder = SessionState.Path.GetUnresolvedProviderPathFromPSPath(adapter);
                try { merged = AdapterMerge.Merge(merged, folder, Options, AdapterScale, opened, product); }
                catch (TorchSerialException ex)
                {
                    ThrowTerminatingError(ErrorRecords.ForFile(ex, folder));
                }
            }
            foreach (var tensor in merged) WriteObject(DisplayDefaults.For(this, tensor));
            return;
        }
        if (Device is not null && Device != "cpu")
            ThrowTerminatingError(ErrorRecords.BadArgument(ErrorIds.MergeWeightsInvalid,
                "-Device runs adapter merges (-AdapterPath) on an accelerator; averages run on the host's cores.",
                Device));
        try { merged = CheckpointAverage.Merge(inputs, Weight); }
        catch (TorchSerialException ex)
        {
            ThrowTerminatingError(ErrorRecords.From(ex, string.Join(", ", _paths)));
            return;
        }
        var weights = (Weight ?? Enumerable.Repeat(1.0 / inputs.Count, inputs.Count).ToArray())
            .Select(w => w.ToString("R", System.Globalization.CultureInfo.InvariantCulture));
        WriteVerbose($"Merging {inputs.Count} checkpoints into {merged.Count} tensors, weights " +
            $"{string.Join(", ", weights)}.");
        foreach (var tensor in merged) WriteObject(DisplayDefaults.For(this, tensor));
    }
}
