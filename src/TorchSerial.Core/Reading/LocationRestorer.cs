namespace TorchSerial;

/// <summary>
/// Decides where a storage goes from its saved location tag and the map_location options, as
/// torch's default_restore_location does. Only the host exists in this build; CUDA and other device
/// tags fail with torch's advice adapted to -MapLocation.
/// </summary>
internal static class LocationRestorer
{
    public static string Restore(string savedTag, LoadOptions options, string storageKey)
    {
        string tag = options.MapLocation
            ?? (options.LocationMap is { } map && map.TryGetValue(savedTag, out var mapped) ? mapped : savedTag);
        if (tag == "cpu") return "cpu";
        string backend = tag.Split(':')[0];
        if (backend is "cuda" or "mps" or "hpu" or "xpu" or "mtia" or "meta")
        {
            string what = backend == "cuda" ? "a CUDA device" : $"the '{backend}' device";
            throw new TorchSerialException(ErrorIds.DeviceUnavailable, ErrorKind.ResourceUnavailable,
                $"Attempting to deserialize storage '{storageKey}' on {what} (saved location '{savedTag}'), but that device is not available here. " +
                "If you are running on a CPU-only machine, load with -MapLocation cpu to map your storages to the CPU.");
        }
        throw new TorchSerialException(ErrorIds.UnknownLocation, ErrorKind.InvalidData,
            $"Don't know how to restore the data location of storage '{storageKey}' (tagged with '{tag}'). " +
            "Load with -MapLocation cpu to place it on the host.");
    }
}
