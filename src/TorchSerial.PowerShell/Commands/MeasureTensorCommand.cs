using System.Management.Automation;
using TorchSerial.Devices;
using TorchSerial.Tensors;

namespace TorchSerial.PowerShell.Commands;

/// <summary>
/// Statistics of each piped tensor, as torch computes them: count, NaN, ±Inf and zero counts, min, max, mean,
/// unbiased standard deviation and L2 norm, in double precision. Host tensors are reduced with SIMD lanes, chunk by
/// chunk (lazy tensors stream from their file); float32 tensors placed on an ILGPU accelerator are reduced there by
/// a kernel, and only the partial figures come back.
/// </summary>
[Cmdlet(VerbsDiagnostic.Measure, "Tensor", DefaultParameterSetName = TensorSet)]
[OutputType(typeof(TensorStatistics))]
public sealed class MeasureTensorCommand : TensorCmdlet
{
    /// <summary>Measures on the host even a tensor held by an accelerator (copying it back chunk by chunk).</summary>
    [Parameter]
    public SwitchParameter OnHost { get; set; }

    protected override object Compute(Tensor tensor, CancellationToken cancellationToken)
        => !OnHost && DeviceStatistics.CanCompute(tensor) ? DeviceStatistics.Compute(tensor)
            : HostStatistics.Compute(tensor, cancellationToken);
}
