using System.Management.Automation;
using TorchSerial.Errors;
using TorchSerial.Reading;
using TorchSerial.Tensors;
using TorchSerial.Toolbox;

namespace TorchSerial.PowerShell.Commands;

/// <summary>
/// Compares two checkpoints (of any formats) or two sets of tensors name by name: one TensorComparison per name,
/// Equal, Changed (with the greatest absolute and relative differences and whether they are within
/// torch.testing.assert_close's tolerances), DTypeChanged, ShapeChanged, Added or Removed. Files are opened lazily
/// and compared chunk by chunk, so memory stays flat.
/// </summary>
[Cmdlet(VerbsData.Compare, "TorchCheckpoint", DefaultParameterSetName = PathSet)]
[OutputType(typeof(TensorComparison))]
public sealed class CompareTorchCheckpointCommand : PSCmdlet, IDisposable
{
    private const string PathSet = "Path";
    private const string ObjectSet = "Object";
    private readonly CancellationTokenSource _cancel = new();
    private readonly List<Tensor> _piped = new();

    /// <summary>The reference checkpoint (what is expected).</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = PathSet)]
    [ValidateNotNullOrEmpty]
    public string ReferencePath { get; set; } = "";

    /// <summary>The checkpoint compared with it.</summary>
    [Parameter(Mandatory = true, Position = 1, ParameterSetName = PathSet)]
    [ValidateNotNullOrEmpty]
    public string DifferencePath { get; set; } = "";

    /// <summary>Reference tensors (for example Import-TorchCheckpoint a.pt -Lazy).</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = ObjectSet)]
    public Tensor[] ReferenceObject { get; set; } = Array.Empty<Tensor>();

    /// <summary>Tensors compared with them; may be piped.</summary>
    [Parameter(Mandatory = true, Position = 1, ValueFromPipeline = true, ParameterSetName = ObjectSet)]
    public Tensor[] DifferenceObject { get; set; } = Array.Empty<Tensor>();

    /// <summary>Compares only this sub-object of each file (model, state_dict, …), by names relative to it.</summary>
    [Parameter(ParameterSetName = PathSet)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.CheckpointKeyCompleter))]
    public string? Key { get; set; }

    /// <summary>rtol of |d − r| ≤ atol + rtol·|r|; by default assert_close's for the dtype (float32 1.3e-6, …; 0 for
    /// integers).</summary>
    [Parameter]
    [ValidateRange(0, double.MaxValue)]
    public double? RelativeTolerance { get; set; }

    /// <summary>atol of |d − r| ≤ atol + rtol·|r|; by default assert_close's for the dtype (float32 1e-5, …; 0 for
    /// integers).</summary>
    [Parameter]
    [ValidateRange(0, double.MaxValue)]
    public double? AbsoluteTolerance { get; set; }

    /// <summary>NaN equals NaN (assert_close's equal_nan=True).</summary>
    [Parameter]
    public SwitchParameter EqualNan { get; set; }

    /// <summary>
    /// Compares tensors whose dtypes differ by value (assert_close's check_dtype=False), in double precision with
    /// the tolerances of the less precise dtype: a float32 file against its bfloat16 copy.
    /// </summary>
    [Parameter]
    public SwitchParameter IgnoreDType { get; set; }

    /// <summary>A bearer token for remote paths, sent to their own hosts only. For hf:// the default is HF_TOKEN,
    /// else the token file huggingface_hub writes.</summary>
    [Parameter(ParameterSetName = PathSet)]
    public System.Security.SecureString? Token { get; set; }

    /// <summary>Accepts any TLS certificate from a remote server, as the web cmdlets' -SkipCertificateCheck.</summary>
    [Parameter(ParameterSetName = PathSet)]
    public SwitchParameter SkipCertificateCheck { get; set; }

    /// <summary>Leaves out names whose tensors are Equal.</summary>
    [Parameter]
    public SwitchParameter ExcludeEqual { get; set; }

    protected override void ProcessRecord()
    {
        if (ParameterSetName == ObjectSet) _piped.AddRange(DifferenceObject);
    }

    protected override void EndProcessing()
    {
        var options = new CompareOptions { RelativeTolerance = RelativeTolerance,
            AbsoluteTolerance = AbsoluteTolerance, EqualNan = EqualNan, IgnoreDType = IgnoreDType };
        Checkpoint? reference = null, difference = null;
        string target = ParameterSetName == PathSet ? ReferencePath : "tensors";
        try
        {
            IReadOnlyList<Tensor> r, d;
            if (ParameterSetName == PathSet)
            {
                reference = Open(ReferencePath);
                difference = Open(DifferencePath);
                if (reference is null || difference is null) return;
                r = ToCompare(reference);
                target = DifferencePath;
                d = ToCompare(difference);
            }
            else (r, d) = (ReferenceObject, _piped);
            int done = 0;
            var progress = new ProgressReporter(this, "Compare-TorchCheckpoint", $"{r.Count} tensors");
            try
            {
                foreach (var c in TensorComparer.Compare(r, d, options, _cancel.Token))
                {
                    progress.Report(++done, Math.Max(r.Count, done));
                    if (ExcludeEqual && c.Status == nameof(ComparisonStatus.Equal)) continue;
                    WriteObject(DisplayDefaults.For(this, c));
                }
            }
            finally { progress.Complete(); }
        }
        catch (TorchSerialException ex)
        {
            ThrowTerminatingError(ErrorRecords.From(ex, target));
        }
        catch (OperationCanceledException)
        {
            throw new PipelineStoppedException();
        }
        finally
        {
            reference?.Dispose();
            difference?.Dispose();
        }
    }

    /// <summary>The whole file, with a safetensors side's removed tied names put back (so they compare as the tensor
    /// they name), or the sub-object -Key selects.</summary>
    private IReadOnlyList<Tensor> ToCompare(Checkpoint checkpoint)
        => Key is null ? TensorComparer.WithSafeTensorsAliases(checkpoint)
            : SubObject.Tensors(SubObject.Select(checkpoint, Key));

    private Checkpoint? Open(string input)
    {
        var path = InputFile.Resolve(this, input);
        return path is null ? null : CheckpointReader.Open(path, new LoadOptions { MapLocation = "cpu",
            Remote = RemoteInputs.Options(Token, SkipCertificateCheck, timeoutSec: 30) }, _cancel.Token);
    }

    protected override void StopProcessing() => _cancel.Cancel();

    public void Dispose() => _cancel.Dispose();
}
