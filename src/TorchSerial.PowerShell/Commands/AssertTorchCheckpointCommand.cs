using System.Collections;
using System.Management.Automation;
using TorchSerial.Errors;
using TorchSerial.Toolbox;

namespace TorchSerial.PowerShell.Commands;

/// <summary>
/// Checks checkpoints against expectations (loads cleanly; these tensors, shapes and dtypes; no NaN or Inf; matches a
/// reference within tolerance) and throws one error listing every failure of every file, so one line guards a
/// Pester It, a script or a CI step. Emits nothing when every check passes, or with -PassThru the files checked.
/// </summary>
[Cmdlet(VerbsLifecycle.Assert, "TorchCheckpoint", DefaultParameterSetName = PathSet)]
[OutputType(typeof(FileInfo))]
public sealed class AssertTorchCheckpointCommand : CheckpointInputCmdlet
{
    private readonly List<string> _failures = new();
    private readonly List<string> _passed = new();
    private int _unreadable;

    /// <summary>Tensors that must be present, by name.</summary>
    [Parameter]
    public string[] Name { get; set; } = Array.Empty<string>();

    /// <summary>Shapes named tensors must have: @{ 'fc.weight' = 4, 12; 'fc.bias' = ,4 }.</summary>
    [Parameter]
    public IDictionary? Shape { get; set; }

    /// <summary>dtypes named tensors must have: @{ 'fc.weight' = 'float32' }.</summary>
    [Parameter]
    public IDictionary? DType { get; set; }

    /// <summary>No tensor may hold NaN or an infinity (reads every value, streamed).</summary>
    [Parameter]
    public SwitchParameter Finite { get; set; }

    /// <summary>A checkpoint every tensor must match, name for name, within tolerance.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ReferencePath { get; set; }

    /// <summary>rtol for -ReferencePath; by default torch.testing.assert_close's for the dtype.</summary>
    [Parameter]
    public double? RelativeTolerance { get; set; }

    /// <summary>atol for -ReferencePath; by default torch.testing.assert_close's for the dtype.</summary>
    [Parameter]
    public double? AbsoluteTolerance { get; set; }

    /// <summary>With -ReferencePath: compares tensors of different dtypes by value (a cast copy against its source),
    /// with the tolerances of the less precise dtype, as assert_close's check_dtype=False.</summary>
    [Parameter]
    public SwitchParameter IgnoreDType { get; set; }

    /// <summary>Checks only this sub-object of each file (and of the reference), by names relative to it.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.CheckpointKeyCompleter))]
    public string? Key { get; set; }

    /// <summary>
    /// Passes when no checkpoint is given at all (an empty folder, a pattern that matches nothing, an empty pipe).
    /// Without it, an assertion over nothing fails with NoCheckpoint: a gate that checked nothing must not pass.
    /// </summary>
    [Parameter]
    public SwitchParameter AllowEmpty { get; set; }

    protected override bool UnmatchedPatternIsError => !AllowEmpty;

    /// <summary>Emits the FileInfo of each file that passed.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        string? reference = ReferencePath is null ? null : InputFile.Resolve(this, ReferencePath);
        var expect = new CheckpointExpectations
        {
            Key = Key, Names = Name, Finite = Finite, ReferencePath = reference,
            Shapes = Pairs(Shape, v => LanguagePrimitives.ConvertTo<long[]>(v)),
            DTypes = Pairs(DType, v => LanguagePrimitives.ConvertTo<string>(v)),
            Tolerance = new CompareOptions { RelativeTolerance = RelativeTolerance,
                AbsoluteTolerance = AbsoluteTolerance, IgnoreDType = IgnoreDType },
        };
        ForEachFile("Assert-TorchCheckpoint", (path, _) => CheckpointAssertions.Check(path, expect, Options,
            Cancel.Token), (path, failures) =>
        {
            if (failures.Count == 0) _passed.Add(path);
            else _failures.AddRange(failures.Select(f => $"{path}: {f}"));
        }, () => _unreadable++);
    }

    protected override void EndProcessing()
    {
        int failedFiles = _failures.Select(FileOf).Distinct().Count();
        // Nothing given, or only patterns that matched nothing: the gate checked nothing. A file that was given but
        // could not be read is a failed check instead (below), as before.
        if (_passed.Count + failedFiles == 0 && _unreadable == 0 && !AllowEmpty)
        {
            ThrowTerminatingError(ErrorRecords.NothingChecked(
                (UnmatchedPatterns > 0
                    ? $"No checkpoint was checked: the {UnmatchedPatterns} pattern(s) given matched no file."
                    : "No checkpoint was checked: no input was given (an empty folder or an empty pipe).") +
                " An assertion over nothing fails; add -AllowEmpty if no files is an accepted outcome."));
            return;
        }
        // An input that could not be read at all (a folder, a missing or damaged file) already has its own error; it
        // fails the assertion too, so a CI step never passes on a path that checked nothing.
        if (_failures.Count > 0 || _unreadable > 0)
        {
            string message = $"{_failures.Count} checkpoint check(s) failed in {failedFiles} file(s)" +
                (_unreadable > 0 ? $", and {_unreadable} input(s) could not be read (see the errors before this one)"
                    : "") + ":" + Environment.NewLine +
                string.Join(Environment.NewLine, _failures.Select(f => "  - " + f));
            ThrowTerminatingError(ErrorRecords.AssertionFailed(message, _failures.Count + _unreadable));
        }
        if (PassThru) foreach (var p in _passed) WriteObject(OutputFile.Item(this, p));
    }

    private static string FileOf(string failure) => failure[..failure.IndexOf(": ", StringComparison.Ordinal)];

    private static Dictionary<string, T> Pairs<T>(IDictionary? table, Func<object?, T> convert)
    {
        var result = new Dictionary<string, T>(StringComparer.Ordinal);
        if (table is null) return result;
        foreach (DictionaryEntry e in table) result[LanguagePrimitives.ConvertTo<string>(e.Key)] = convert(e.Value is PSObject ps ? ps.BaseObject : e.Value);
        return result;
    }
}
