using System.Management.Automation;
using TorchSerial.Tensors;
using TorchSerial.Toolbox;

namespace TorchSerial.PowerShell.Commands;

/// <summary>
/// Hashes each piped tensor's dtype, shape and logical bytes, independent of container, layout and strides, so that
/// the same weights hash alike in a .pt, a legacy file, a safetensors file or a shard.
/// </summary>
[Cmdlet(VerbsCommon.Get, "TensorHash", DefaultParameterSetName = TensorSet)]
[OutputType(typeof(TensorHashResult))]
public sealed class GetTensorHashCommand : TensorCmdlet
{
    /// <summary>SHA256 (the default), SHA384 or SHA512, as Get-FileHash names them.</summary>
    [Parameter]
    [ValidateSet("SHA256", "SHA384", "SHA512", IgnoreCase = true)]
    public string Algorithm { get; set; } = "SHA256";

    protected override object Compute(Tensor tensor, CancellationToken cancellationToken) => TensorHash.Compute(tensor,
        Algorithm, cancellationToken);
}
