using System.Collections;
using System.Management.Automation;
using TorchSerial.Errors;
using TorchSerial.Tensors;
using TorchSerial.Toolbox;

namespace TorchSerial.PowerShell.Commands;

/// <summary>
/// Renames tensors by a regex replacement or an exact map: piped tensors come out under their new names (sharing
/// their storages), and a whole state_dict given as one object comes out as a new dict whose _metadata follows.
/// Two names that would collide stop the pipeline with TensorNameCollision.
/// </summary>
[Cmdlet(VerbsCommon.Rename, "Tensor", DefaultParameterSetName = PatternSet)]
[OutputType(typeof(Tensor), typeof(Python.PyDict))]
public sealed class RenameTensorCommand : PSCmdlet
{
    private const string PatternSet = "Pattern";
    private const string MapSet = "Map";
    private TensorRenamer _renamer = null!;

    /// <summary>A tensor (usually piped from Import-TorchCheckpoint), or a whole state_dict dictionary.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    public object? InputObject { get; set; }

    /// <summary>A .NET regular expression matched against each name (e.g. '^module\.').</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = PatternSet)]
    [ValidateNotNullOrEmpty]
    public string Pattern { get; set; } = "";

    /// <summary>What each match becomes; $1 and ${name} refer to groups. Empty by default (the match is
    /// removed).</summary>
    [Parameter(Position = 1, ParameterSetName = PatternSet)]
    [AllowEmptyString]
    public string Replacement { get; set; } = "";

    /// <summary>Exact renames, old name = new name; names the map does not list are kept.</summary>
    [Parameter(Mandatory = true, ParameterSetName = MapSet)]
    public IDictionary Map { get; set; } = new Hashtable();

    protected override void BeginProcessing()
    {
        try
        {
            _renamer = ParameterSetName == MapSet
                ? TensorRenamer.FromMap(Map.Cast<DictionaryEntry>().ToDictionary(
                    e => LanguagePrimitives.ConvertTo<string>(e.Key), e
                        => LanguagePrimitives.ConvertTo<string>(e.Value) ?? "", StringComparer.Ordinal))
                : TensorRenamer.FromPattern(Pattern, Replacement);
        }
        catch (ArgumentException ex)
        {
            ThrowTerminatingError(ErrorRecords.BadArgument(ErrorRecords.InvalidPattern,
                $"'{Pattern}' is not a valid regular expression: {ex.Message}", Pattern));
        }
    }

    protected override void ProcessRecord()
    {
        var value = InputObject is PSObject ps ? ps.BaseObject : InputObject;
        try
        {
            switch (value)
            {
                case Tensor t: WriteObject(DisplayDefaults.For(this, _renamer.Rename(t))); break;
                case IDictionary d: WriteObject(_renamer.RenameDict(d), enumerateCollection: false); break;
                default:
                    WriteError(ErrorRecords.BadArgument(ErrorIds.InvalidSaveInput,
                        $"Rename-Tensor renames tensors or a state_dict, not " +
                            $"{(value is null ? "$null" : value.GetType().Name)}.", value));
                    break;
            }
        }
        catch (TorchSerialException ex)
        {
            ThrowTerminatingError(ErrorRecords.From(ex, value));
        }
    }
}
