namespace TorchSerial;

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

    /// <summary>The device the storage goes to, checked against the devices that exist.</summary>
    internal abstract string Resolve(Storage storage, string savedTag, LocationRegistry registry);

    /// <summary>The tag the storage would have after the map, without placing anything (for rewriting files).</summary>
    internal virtual string Retag(Storage storage, string savedTag) => Resolve(storage, savedTag, LocationRegistry.BuiltIn);

    private sealed class DefaultMap : MapLocation
    {
        internal override string Resolve(Storage s, string tag, LocationRegistry r) => r.Restore(s, tag);
        internal override string Retag(Storage s, string tag) => tag;
    }

    private sealed class DeviceMap(string device) : MapLocation
    {
        internal override string Resolve(Storage s, string tag, LocationRegistry r) => r.Restore(s, device);
        internal override string Retag(Storage s, string tag) => device;
        public override string ToString() => device;
    }

    private sealed class TableMap(IReadOnlyDictionary<string, string> table) : MapLocation
    {
        internal override string Resolve(Storage s, string tag, LocationRegistry r) => r.Restore(s, Retag(s, tag));
        internal override string Retag(Storage s, string tag) => table.TryGetValue(tag, out var mapped) ? mapped : tag;
    }

    private sealed class CallbackMap(Func<Storage, string, object?> callback) : MapLocation
    {
        internal override string Resolve(Storage s, string tag, LocationRegistry r) => callback(s, tag) switch
        {
            null => r.Restore(s, tag),
            string device => r.Restore(s, device),
            Storage other => other.Device,
            var x => throw new TorchSerialException(ErrorIds.InvalidMapLocation, ErrorKind.InvalidArgument,
                $"The -MapLocation script block returned {x.GetType().Name}; it must return a device name, a storage, or nothing."),
        };

        internal override string Retag(Storage s, string tag) => callback(s, tag) switch
        {
            null => tag,
            string device => device,
            Storage => tag,
            var x => throw new TorchSerialException(ErrorIds.InvalidMapLocation, ErrorKind.InvalidArgument,
                $"The -MapLocation script block returned {x.GetType().Name}; it must return a device name, a storage, or nothing."),
        };
    }
}
