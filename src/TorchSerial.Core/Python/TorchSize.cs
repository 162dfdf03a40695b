using System.Collections.ObjectModel;

namespace TorchSerial.Python;

/// <summary>A <c>torch.Size</c>: a sequence of longs.</summary>
public sealed class TorchSize : ReadOnlyCollection<long>
{
    public TorchSize(IList<long> dims) : base(dims) { }
    public override string ToString() => "torch.Size([" + string.Join(", ", this) + "])";
}
