using TorchSerial.Buffers;
using TorchSerial.Containers;
using TorchSerial.Errors;
using TorchSerial.Python;
using TorchSerial.Tensors;
using TorchSerial.Torch;

namespace TorchSerial.Reading;

/// <summary>
/// Reads a safetensors file: the validated header is the listing, and each tensor's bytes are a range of the
/// file, read on first use (or all at once by an eager load). The object is the plain dict that
/// <c>safetensors.torch.load_file</c> returns, its keys in the same (sorted) order.
/// </summary>
internal static class SafeTensorsSource
{
    public static LoadedGraph Load(Stream stream, LoadOptions options)
    {
        var header = SafeTensorsHeader.Read(stream);
        var resolver = new StorageResolver(options.Storages(), expected: header.Entries.Count);
        var root = new PyDict();
        var handle = (stream as FileStream)?.SafeFileHandle; // once: the getter flushes the stream each time
        foreach (var e in header.Entries.OrderBy(e => e.Name, SafeTensorsFormat.NameOrder))
        {
            var dtype = e.DType.TorchDType ?? throw Fail.Unsupported(ErrorIds.SafeTensorsUnsupportedDType,
                $"Tensor '{e.Name}' is {e.DType.Code}, a {e.DType.Bits}-bit type that torch has no dtype for, so it " +
                    $"cannot be loaded " +
                "as a torch tensor (safetensors' own torch binding refuses it too).", e.Name);
            var shape = TorchShape(e);
            var type = new StorageType(dtype.IsV3 ? DType.UInt8 : dtype, untyped: dtype.IsV3);
            var bytes = new FileRangeBuffer(stream, header.DataStart + e.Begin, e.ByteLength, $"tensor '{e.Name}'",
                options.Snapshot, handle);
            var storage = resolver.Add(e.Name, type, e.ByteLength, DeviceNames.Cpu, new StorageBytes(bytes, null));
            root.Add(e.Name, new Tensor(storage, dtype, 0, shape, TensorGeometry.ContiguousStrides(shape)));
        }
        var metadata = header.Metadata is null ? null : PyDict.FromPairs(header.Metadata);
        return new LoadedGraph(CheckpointFormat.SafeTensors, root, resolver.Storages, Array.Empty<string>())
        {
            PickleProtocol = 0, Metadata = metadata,
        };
    }

    /// <summary>The torch shape: F4 packs two values per float4_e2m1fn_x2 element, so the last dimension
    /// halves.</summary>
    private static long[] TorchShape(SafeTensorsEntry e)
    {
        int per = e.DType.ValuesPerElement;
        if (per == 1) return e.Shape;
        if (e.Shape.Length == 0 || e.Shape[^1] % per != 0)
            throw Fail.Unsupported(ErrorIds.SafeTensorsUnsupportedDType,
                $"Tensor '{e.Name}' is {e.DType.Code} with shape [{string.Join(", ", e.Shape)}]; torch holds {per} " +
                    $"such values per " +
                $"{e.DType.TorchDType} element, so the last dimension must be a multiple of {per}.", e.Name);
        var shape = (long[])e.Shape.Clone();
        shape[^1] /= per;
        return shape;
    }
}
