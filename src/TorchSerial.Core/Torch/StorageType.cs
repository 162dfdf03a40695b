using TorchSerial.Tensors;
namespace TorchSerial.Torch;

/// <summary>The storage class a persistent id names: <c>torch.FloatStorage</c>, <c>torch.storage.UntypedStorage</c>,
/// …</summary>
internal sealed class StorageType
{
    public StorageType(DType dtype, bool untyped) { DType = dtype; IsUntyped = untyped; }
    public DType DType { get; }
    public bool IsUntyped { get; }
}

/// <summary>What a rebuild function returns for a tensor layout TorchSerial does not load (sparse, nested, meta,
/// …).</summary>
internal sealed class UnsupportedTensor
{
    public UnsupportedTensor(string feature) { Feature = feature; }
    public string Feature { get; }
}
