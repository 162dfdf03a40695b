using TorchSerial.Errors;
using TorchSerial.Tensors;
using System.Collections;
using System.Management.Automation;
using TorchSerial.PowerShell.Completion;

namespace TorchSerial.PowerShell.Commands;

/// <summary>
/// Makes a TorchSerial.Tensors.Tensor from PowerShell or .NET values: numbers piped in one by one, or arrays
/// given to -InputObject, converted to -DType with torch's rounding and laid out row-major in -Shape.
/// </summary>
[Cmdlet(VerbsData.ConvertTo, "Tensor")]
[OutputType(typeof(Tensor))]
public sealed class ConvertToTensorCommand : PSCmdlet
{
    private readonly List<object> _values = new();

    /// <summary>The values; arrays are flattened in order. Pipe numbers or give an array.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    [AllowEmptyCollection]
    public object? InputObject { get; set; }

    /// <summary>The element type, as torch names it (float32, bfloat16, int64, float8_e4m3fn, …).</summary>
    [Parameter]
    [ArgumentCompleter(typeof(DTypeCompleter))]
    [ValidateNotNullOrEmpty]
    public string DType { get; set; } = "float32";

    /// <summary>The dimensions; their product must equal the number of values. Default: one dimension.</summary>
    [Parameter]
    public long[]? Shape { get; set; }

    /// <summary>The tensor's Name: its key when several tensors are piped to Save-Tensor.</summary>
    [Parameter(Position = 1)]
    public string Name { get; set; } = "";

    /// <summary>Marks the tensor as requiring gradients (saved as requires_grad=True).</summary>
    [Parameter]
    public SwitchParameter RequiresGrad { get; set; }

    /// <summary>Saves the tensor as a torch.nn.Parameter.</summary>
    [Parameter]
    public SwitchParameter AsParameter { get; set; }

    protected override void ProcessRecord() => Flatten(InputObject);

    protected override void EndProcessing()
    {
        var dtype = Tensors.DType.FromName(DType);
        if (dtype is null)
        {
            ThrowTerminatingError(ErrorRecords.BadArgument(ErrorIds.UnknownDType,
                $"'{DType}' is not a torch dtype. Use one of: " +
                    $"{string.Join(", ", Tensors.DType.All.Where(d => !d.IsQuantized))}.", DType));
            return;
        }
        try
        {
            WriteObject(DisplayDefaults.For(this, Tensor.FromValues(_values, dtype, Shape, Name,
                requiresGrad: RequiresGrad || AsParameter, isParameter: AsParameter)));
        }
        catch (TorchSerialException ex)
        {
            ThrowTerminatingError(ErrorRecords.From(ex, Name));
        }
    }

    private void Flatten(object? value)
    {
        var stack = new Stack<object?>();
        stack.Push(value);
        while (stack.Count > 0)
        {
            var v = stack.Pop();
            if (v is PSObject ps) v = ps.BaseObject;
            switch (v)
            {
                case null:
                    ThrowTerminatingError(ErrorRecords.BadArgument(ErrorIds.InvalidTensorData,
                        "A tensor cannot hold $null.", null));
                    return;
                case string or System.Numerics.Complex:
                    _values.Add(v);
                    break;
                case IEnumerable items:
                    var list = items.Cast<object?>().ToList();
                    for (int i = list.Count - 1; i >= 0; i--) stack.Push(list[i]);
                    break;
                default:
                    _values.Add(v);
                    break;
            }
        }
    }
}
