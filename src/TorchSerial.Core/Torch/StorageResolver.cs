using System.Runtime.InteropServices;
using TorchSerial.Errors;
using TorchSerial.Buffers;
using TorchSerial.Tensors;

namespace TorchSerial.Torch;

/// <summary>Where a container keeps one storage's bytes, and the CRC-32 it recorded for them (if any).</summary>
internal readonly record struct StorageBytes(StorageBuffer? Source, uint? Crc, IDeferredSource? Deferred = null)
{
    /// <summary>Bytes whose reader is made on first use.</summary>
    public static StorageBytes OnUse(IDeferredSource source) => new(null, source.Crc, source);
}

/// <summary>How storages are made from what a container says: placement, CRC checks, byte order, memory.</summary>
internal sealed record StorageSettings(MapLocation Map, LocationRegistry Registry, DevicePlatform Platform,
    bool VerifyCrc)
{
    /// <summary>True for big-endian files (zip <c>byteorder</c> = big): element bytes are swapped as they are
    /// read.</summary>
    public bool BigEndian { get; init; }

    /// <summary>
    /// Lazy loads: a device that does not exist here is an error on first use of the bytes, not at open. Listing a
    /// GPU checkpoint, or streaming it file to file, needs no GPU: saved locations are data until bytes are placed.
    /// </summary>
    public bool DeferDeviceCheck { get; init; }

    /// <summary>The largest storage held in a managed array once read; larger ones go to native memory.</summary>
    public long ManagedLimit { get; init; } = HostBuffer.DefaultManagedLimit;
}

/// <summary>
/// The one path from a storage reference to a <see cref="Storage"/>, shared by every container: a container
/// says only where the bytes of a key are; this does claim → storage → dedupe → placement. Each storage gets a
/// load-once buffer over its bytes, with the CRC check and byte swap as layers, and a device to go to.
/// </summary>
internal sealed class StorageResolver(StorageSettings settings, int expected = 0)
{
    // Sized up front where the container knows how many storages to expect: growing them is a large array each time.
    private readonly Dictionary<string, Storage> _byKey = new(expected, StringComparer.Ordinal);

    /// <summary>Distinct root storages in the order they were first referenced.</summary>
    public List<Storage> Storages { get; } = new(expected);

    public bool TryGet(string key, out Storage storage) => _byKey.TryGetValue(key, out storage!);

    /// <summary>The storage a claim names, made the first time; <paramref name="locate"/> says where its bytes
    /// are.</summary>
    public Storage Resolve(StorageClaim claim, Func<StorageClaim, StorageBytes?> locate)
    {
        // One hash of the key for both the lookup and the insert (a state_dict's storages are nearly all new).
        ref var slot = ref CollectionsMarshal.GetValueRefOrAddDefault(_byKey, claim.Key, out bool known);
        if (known) return slot!;
        try
        {
            // Nothing below touches this dictionary, so the slot stays valid until it is filled.
            var storage = Make(claim.Key, claim.Type, claim.NumBytes, claim.Location, locate(claim));
            slot = storage;
            Storages.Add(storage);
            return storage;
        }
        catch
        {
            _byKey.Remove(claim.Key);
            throw;
        }
    }

    /// <summary>A new root storage; <paramref name="bytes"/> may be null when the container gives them later (<see
    /// cref="Attach"/>).</summary>
    public Storage Add(string key, StorageType type, long numBytes, string location, StorageBytes? bytes)
    {
        var storage = Make(key, type, numBytes, location, bytes);
        _byKey.Add(key, storage);
        Storages.Add(storage);
        return storage;
    }

    private Storage Make(string key, StorageType type, long numBytes, string location, StorageBytes? bytes)
    {
        var buffer = new LazyBuffer(key, numBytes, bytes is { Source: not null } b ? Layered(b, key) : null,
            settings.ManagedLimit, bytes?.Deferred, settings.VerifyCrc)
        {
            BigEndian = settings.BigEndian,
            SwapUnit = settings.BigEndian && !type.IsUntyped ? type.DType.SwapUnit : 0,
        };
        var storage = new Storage(key, type.DType, numBytes, location, type.IsUntyped, buffer);
        string device;
        if (!settings.DeferDeviceCheck) device = settings.Map.Resolve(storage, location, settings.Registry,
            settings.Platform);
        else
        {
            device = settings.Map.Target(storage, location, settings.Registry);
            try { LocationRegistry.Validate(device, settings.Platform); }
            catch (TorchSerialException ex) when (ex.ErrorId == ErrorIds.DeviceUnavailable) { buffer.RefuseLoad(ex); }
        }
        buffer.PlaceOn(device, device == DeviceNames.Cpu ? null : settings.Platform.Place);
        return storage;
    }

    /// <summary>Gives a storage its bytes once the container reaches them (the legacy stream lists data after the
    /// pickle).</summary>
    public void Attach(Storage storage, StorageBytes bytes) =>
        ((LazyBuffer)storage.Buffer).Attach(Layered(bytes, storage.Key));

    /// <summary>A view storage over part of a root (legacy formats), made once per key.</summary>
    public Storage View(string key, Storage root, long byteOffset, long numBytes)
    {
        if (_byKey.TryGetValue(key, out var known)) return known;
        var view = new Storage(key, root.DType, numBytes, root.SavedLocation, root.IsUntyped,
            new SliceBuffer(root.Buffer, byteOffset, numBytes));
        _byKey.Add(key, view);
        return view;
    }

    /// <summary>
    /// An untyped storage learns its element size from the first tensor over it: that is the size to swap by in a
    /// big-endian file. torch itself skips this swap, which corrupts cross-endian loads of v3 dtypes.
    /// </summary>
    public static void SwapBy(Storage storage, DType dtype)
    {
        if (storage.Buffer is not LazyBuffer { BigEndian: true, IsResident: false } lazy) return;
        if (storage.NumBytes % dtype.ItemSize != 0)
            throw Fail.Data(ErrorIds.RecordSizeMismatch, $"Storage '{storage.Key}' holds {storage.NumBytes} bytes, not a whole number of {dtype} elements.");
        lazy.SwapUnit = dtype.SwapUnit;
    }

    private StorageBuffer Layered(StorageBytes bytes, string key)
        => bytes.Deferred is not null
            ? throw new InvalidOperationException("Deferred bytes are opened by their buffer.")
            : CrcCheckedBuffer.Over(bytes.Source!, bytes.Crc, settings.VerifyCrc, key);
}
