using System.Collections;
using System.Management.Automation;
using TorchSerial.Errors;
using TorchSerial.PowerShell.Completion;
using TorchSerial.Python;
using TorchSerial.Tensors;

namespace TorchSerial.PowerShell.Commands;

/// <summary>
/// Casts tensors to a dtype with exactly the bytes of torch's .to(dtype). By default only floating-point tensors
/// change, as model.half() leaves integer buffers alone; -Include and -Exclude name patterns choose instead. Tensors
/// that shared a storage still share one; names, flags and (for a whole state_dict) _metadata survive. Lazy tensors
/// are cast while a save streams them, in flat memory.
/// </summary>
[Cmdlet(VerbsData.Convert, "Tensor")]
[OutputType(typeof(Tensor), typeof(PyDict))]
public sealed class ConvertTensorCommand : PSCmdlet
{
    private TensorCaster _caster = null!;
    private WildcardPattern[] _include = Array.Empty<WildcardPattern>(), _exclude = Array.Empty<WildcardPattern>();

    /// <summary>A tensor (usually piped from Import-TorchCheckpoint), or a whole object (a state_dict) to cast
    /// inside.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    public object? InputObject { get; set; }

    /// <summary>The dtype to cast to: bfloat16, float16, float32, float64, int64, … (torch's names).</summary>
    [Parameter(Mandatory = true, Position = 0)]
    [ArgumentCompleter(typeof(CastDTypeCompleter))]
    [ValidateNotNullOrEmpty]
    public string DType { get; set; } = "";

    /// <summary>Casts only tensors whose names match one of these wildcard patterns, whatever their dtype.</summary>
    [Parameter]
    [SupportsWildcards]
    public string[] Include { get; set; } = Array.Empty<string>();

    /// <summary>Leaves tensors whose names match one of these wildcard patterns as they are.</summary>
    [Parameter]
    [SupportsWildcards]
    public string[] Exclude { get; set; } = Array.Empty<string>();

    protected override void BeginProcessing()
    {
        var dtype = Tensors.DType.FromName(DType);
        if (dtype is null || !ElementCast.Supports(dtype))
        {
            ThrowTerminatingError(ErrorRecords.BadArgument(dtype is null ? ErrorIds.UnknownDType
                : ErrorIds.UnsupportedCast,
                $"'{DType}' is not a dtype Convert-Tensor casts to; use one of " +
                $"{string.Join(", ", Tensors.DType.All.Where(ElementCast.Supports).Select(d => d.Name))}.", DType));
            return;
        }
        _caster = new TensorCaster(dtype);
        _include = Include.Select(p => new WildcardPattern(p, WildcardOptions.IgnoreCase)).ToArray();
        _exclude = Exclude.Select(p => new WildcardPattern(p, WildcardOptions.IgnoreCase)).ToArray();
    }

    protected override void ProcessRecord()
    {
        var value = InputObject is PSObject ps ? ps.BaseObject : InputObject;
        try
        {
            WriteObject(DisplayDefaults.For(this, value is Tensor t ? Convert(t) : Map(value)),
                enumerateCollection: false);
        }
        catch (TorchSerialException ex)
        {
            ThrowTerminatingError(ErrorRecords.From(ex, value is Tensor t ? t.SourceFile ?? t.Name : value));
        }
    }

    /// <summary>The tensor cast when it is chosen: by -Include if given, else floating-point dtypes; never if -Exclude
    /// matches.</summary>
    private Tensor Convert(Tensor t)
    {
        bool chosen = _include.Length > 0 ? _include.Any(p => p.IsMatch(t.Name))
            // Float8 tensors (one byte) are already as small as a cast makes them, so only wider floats are chosen.
            : t.DTypeInfo.IsFloatingPoint && t.DTypeInfo.ItemSize > 1;
        if (!chosen || _exclude.Any(p => p.IsMatch(t.Name))) return t;
        return _caster.Cast(t);
    }

    /// <summary>A copy of a dict/list/tuple structure with its tensors converted; dict attributes (_metadata) are
    /// kept.</summary>
    private object? Map(object? value) => value switch
    {
        Tensor t => Convert(t),
        PyDict d => MapDict(d),
        PyList l => new PyList(l.Select(Map)),
        PyTuple u => new PyTuple(u.Select(Map).ToArray()),
        _ => value,
    };

    private PyDict MapDict(PyDict d)
    {
        var copy = new PyDict { PythonType = d.PythonType, State = d.State };
        foreach (DictionaryEntry e in d) copy.Add(e.Key, Map(e.Value));
        return copy;
    }
}
