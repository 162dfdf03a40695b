using TorchSerial.Errors;
using TorchSerial.Tensors;
namespace TorchSerial.Torch;

/// <summary>
/// torch.load's map_location: where each storage goes, decided per storage from its saved tag.
/// A device name replaces every tag; a table remaps listed tags (others pass through); a callback gets
/// (storage, tag) and returns a device name, a storage, or null for the default.
/// </summary>
public abstract class MapLocation
{
    public static MapLocation Default { get; } = new DefaultMap();

    public static MapLocation Device(string device) => new DeviceMap(device);

    public static MapLocation Table(IReadOnlyDictionary<string, string> table) => new TableMap(table);

    public static MapLocation Callback(Func<Storage, string, object?> callback) => new CallbackMap(callback);

    public static implicit operator MapLocation(string device) => Device(device);

    /// <summary>The device the storage goes to, checked against the devices <paramref name="platform"/> has.</summary>
    internal string Resolve(Storage storage, string savedTag, LocationRegistry registry, DevicePlatform platform)
        => Checked(Map(storage, savedTag)) switch
        {
            string device => registry.Restore(storage, device, platform),
            Storage other => other.Device,
            _ => registry.Restore(storage, savedTag, platform),
        };

    /// <summary>The device the storage goes to, before checking that it exists here (lazy loads check on first
    /// use).</summary>
    internal string Target(Storage storage, string savedTag, LocationRegistry registry)
        => Checked(Map(storage, savedTag)) switch
        {
            string device => registry.Deserialize(storage, device),
            Storage other => other.Device,
            _ => registry.Deserialize(storage, savedTag),
        };

    /// <summary>The tag the storage would have after the map, without placing anything (for rewriting files).</summary>
    internal string Retag(Storage storage, string savedTag) => Checked(Map(storage, savedTag)) as string ?? savedTag;

    private static object? Checked(object? answer) => answer is null or string or Storage ? answer
        : throw new TorchSerialException(ErrorIds.InvalidMapLocation, ErrorKind.InvalidArgument,
            $"The -MapLocation script block returned {answer.GetType().Name}; it must return a device name, a " +
                "storage, or nothing.");

    /// <summary>What the map says for one storage: a device name, a storage (whose device to use), or null to keep the
    /// tag.</summary>
    private protected abstract object? Map(Storage storage, string savedTag);

    private sealed class DefaultMap : MapLocation
    {
        private protected override object? Map(Storage s, string tag) => null;
    }

    private sealed class DeviceMap(string device) : MapLocation
    {
        private protected override object? Map(Storage s, string tag) => device;
        public override string ToString() => device;
    }

    private sealed class TableMap(IReadOnlyDictionary<string, string> table) : MapLocation
    {
        private protected override object? Map(Storage s, string tag) =>
            table.TryGetValue(tag, out var mapped) ? mapped : null;
    }

    private sealed class CallbackMap(Func<Storage, string, object?> callback) : MapLocation
    {
        private protected override object? Map(Storage s, string tag) => callback(s, tag);
    }
}
