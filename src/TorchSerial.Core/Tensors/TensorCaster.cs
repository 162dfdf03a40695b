using TorchSerial.Buffers;
using TorchSerial.Errors;

namespace TorchSerial.Tensors;

/// <summary>
/// Casts tensors to one dtype as torch's <c>.to(dtype)</c> does (<see cref="ElementCast"/>), storage by storage:
/// tensors that shared a storage share its cast (tied weights stay tied), and each keeps its name, geometry (offset
/// and strides, in elements), IsParameter, RequiresGrad and Python state. Nothing is computed until the bytes are
/// used.
/// </summary>
public sealed class TensorCaster(DType target)
{
    private readonly Dictionary<Storage, Storage> _cast = new(ReferenceEqualityComparer.Instance);

    public DType Target { get; } = target;

    public Tensor Cast(Tensor tensor)
    {
        if (tensor.DTypeInfo == Target) return tensor;
        if (!ElementCast.Supports(tensor.DTypeInfo) || !ElementCast.Supports(Target))
            throw new TorchSerialException(ErrorIds.UnsupportedCast, ErrorKind.NotImplemented,
                $"Tensor '{tensor.Name}' is {tensor.DType}; casts are exact (torch's bytes) between " +
                $"{string.Join(", ", DType.All.Where(ElementCast.Supports))}, and " +
                $"{(ElementCast.Supports(tensor.DTypeInfo) ? Target : tensor.DTypeInfo)} is not one.");
        if (tensor.IsMeta)
        {
            var meta = Tensor.Meta(Target, tensor.Shape.Items, tensor.Stride.Items, tensor.RequiresGrad);
            meta.Name = tensor.Name;
            meta.IsParameter = tensor.IsParameter;
            return meta;
        }
        var source = tensor.Storage;
        if (source.NumBytes % tensor.DTypeInfo.ItemSize != 0)
            throw new TorchSerialException(ErrorIds.UnsupportedCast, ErrorKind.InvalidData,
                $"Storage '{source.Key}' of tensor '{tensor.Name}' holds {source.NumBytes} bytes, not whole " +
                    $"{tensor.DType} elements.");
        if (!_cast.TryGetValue(source, out var storage))
        {
            long bytes = source.NumBytes / tensor.DTypeInfo.ItemSize * Target.ItemSize;
            var buffer = new LazyBuffer(source.Key, bytes, new CastBuffer(source.Buffer, tensor.DTypeInfo, Target));
            _cast[source] = storage = new Storage(source.Key, Target, bytes, source.SavedLocation, untyped: false,
                buffer);
        }
        return tensor.Recast(storage, Target);
    }
}
