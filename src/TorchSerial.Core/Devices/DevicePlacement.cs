namespace TorchSerial;

/// <summary>Moves tensors between devices (host, ILGPU CPU accelerator, CUDA) by copying their storages.</summary>
public static class DevicePlacement
{
    /// <summary>
    /// Places each tensor where <paramref name="map"/> sends its current device. Tensors that share a storage
    /// still share one (new) storage afterwards; a tensor already where it should be is returned as it is.
    /// Bytes are copied through the host, so every round trip returns identical bytes.
    /// </summary>
    public static IReadOnlyList<Tensor> Place(IEnumerable<Tensor> tensors, MapLocation map, LocationRegistry? registry = null)
    {
        registry ??= LocationRegistry.BuiltIn;
        var moved = new Dictionary<Storage, Storage>(ReferenceEqualityComparer.Instance);
        var result = new List<Tensor>();
        foreach (var t in tensors)
        {
            var source = t.Storage;
            if (!moved.TryGetValue(source, out var target))
            {
                string device = map.Resolve(source, source.Device, registry);
                target = device == source.Device ? source : source.CopyToDevice(device);
                moved[source] = target;
            }
            result.Add(ReferenceEquals(target, source) ? t : t.WithStorage(target));
        }
        return result;
    }
}
