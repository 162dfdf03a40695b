using TorchSerial.Buffers;
using TorchSerial.Tensors;
using TorchSerial.Torch;

namespace TorchSerial.Devices;

/// <summary>Moves tensors between devices (host, ILGPU CPU accelerator, CUDA) by copying their storages.</summary>
public static class DevicePlacement
{
    /// <summary>
    /// Places each tensor where <paramref name="map"/> sends its current device. Tensors that share a storage
    /// still share one (new) storage afterwards; a tensor already where it should be is returned as it is.
    /// Each storage is copied once, straight between where its bytes are and where they go.
    /// </summary>
    public static IReadOnlyList<Tensor> Place(IEnumerable<Tensor> tensors, MapLocation map,
        LocationRegistry? registry = null)
    {
        registry ??= LocationRegistry.BuiltIn;
        var moved = new Dictionary<Storage, Storage>(ReferenceEqualityComparer.Instance);
        var result = new List<Tensor>();
        foreach (var t in tensors)
        {
            var source = t.Storage;
            if (!moved.TryGetValue(source, out var target))
            {
                string device = map.Resolve(source, source.Device, registry, IlgpuPlatform.Instance);
                target = device == source.Device ? source : source.WithBuffer(CopyTo(device, source.Buffer));
                moved[source] = target;
            }
            result.Add(ReferenceEquals(target, source) ? t : t.WithStorage(target));
        }
        return result;
    }

    /// <summary>
    /// One copy, from where the bytes are to where they go. Bytes not read yet come from the file (through their
    /// CRC check) and are not kept where they were bound for, which may be a device this machine lacks.
    /// </summary>
    private static StorageBuffer CopyTo(string device, StorageBuffer bytes)
    {
        if (device != DeviceNames.Cpu && bytes.IsResident) return DeviceBuffer.Upload(device, bytes);
        var host = HostBuffer.Allocate(bytes.Length);
        host.KnownCrc = bytes.Fill(host, null, CancellationToken.None) ?? bytes.KnownCrc;
        return device == DeviceNames.Cpu ? host : DeviceBuffer.Upload(device, host);
    }
}
