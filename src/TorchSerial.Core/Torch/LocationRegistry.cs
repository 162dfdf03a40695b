using TorchSerial.Errors;
using TorchSerial.Tensors;

namespace TorchSerial.Torch;

/// <summary>
/// torch.serialization.register_package for TorchSerial: (priority, tagger, deserializer) entries tried in
/// ascending priority. A tagger names the location tag a storage is saved with (first non-empty answer wins);
/// a deserializer turns a location tag into a device name (or a storage), or returns null to pass.
/// As in torch, an entry whose priority is already taken is kept but goes last.
/// Instances are independent: the PowerShell layer keeps one per runspace, so registrations never leak
/// between runspaces; <see cref="BuiltIn"/> holds torch's own entries and cannot be changed.
/// </summary>
public sealed class LocationRegistry
{
    private readonly List<LocationHandler> _handlers;
    private readonly bool _frozen;

    // Every storage of a load asks the handlers; they change only on (un)registration, so reads take a snapshot.
    private volatile LocationHandler[] _snapshot;

    public LocationRegistry() : this(BuiltInHandlers(), frozen: false) { }

    private LocationRegistry(List<LocationHandler> handlers, bool frozen)
    {
        _handlers = handlers;
        _frozen = frozen;
        _snapshot = handlers.ToArray();
    }

    /// <summary>torch's built-in entries (cpu 10, cuda 20, the other torch backends), plus ILGPU's CPU
    /// accelerator.</summary>
    public static LocationRegistry BuiltIn { get; } = new(BuiltInHandlers(), frozen: true);

    public IReadOnlyList<LocationHandler> Handlers => _snapshot;

    /// <summary>Adds an entry. Like torch, an already-used priority does not fail: the new entry is tried
    /// last.</summary>
    public LocationHandler Register(string name, int priority, Func<Storage, string?>? tagger, Func<Storage, string,
        object?>? deserializer)
    {
        if (_frozen)
            throw new InvalidOperationException("The built-in registry cannot be changed; create a LocationRegistry.");
        var handler = new LocationHandler(name, priority, tagger, deserializer);
        lock (_handlers)
        {
            _handlers.RemoveAll(h => h.Name == name && !h.IsBuiltIn);
            bool collides = _handlers.Any(h => h.Priority == priority);
            if (collides) _handlers.Add(handler);
            else
            {
                int at = _handlers.FindIndex(h => h.Priority > priority && !h.CollidedLate);
                _handlers.Insert(at < 0 ? _handlers.Count : at, handler);
            }
            handler.CollidedLate = collides;
            _snapshot = _handlers.ToArray();
        }
        return handler;
    }

    public bool Unregister(string name)
    {
        if (_frozen) return false;
        lock (_handlers)
        {
            bool removed = _handlers.RemoveAll(h => h.Name == name && !h.IsBuiltIn) > 0;
            _snapshot = _handlers.ToArray();
            return removed;
        }
    }

    /// <summary>The tag a storage is saved with: the first tagger's non-empty answer.</summary>
    public string Tag(Storage storage)
    {
        foreach (var h in _snapshot)
            if (h.Tagger?.Invoke(storage) is { Length: > 0 } tag) return tag;
        throw new TorchSerialException(ErrorIds.UnknownLocation, ErrorKind.InvalidData,
            $"Don't know how to determine the data location of storage '{storage.Key}' on device '{storage.Device}'.");
    }

    /// <summary>
    /// Where a storage saved with <paramref name="tag"/> goes: the first deserializer that answers, checked
    /// against the devices <paramref name="platform"/> has (torch's validate_cuda_device and its peers).
    /// </summary>
    public string Restore(Storage storage, string tag, DevicePlatform? platform = null)
        => Validate(Deserialize(storage, tag), platform ?? DevicePlatform.HostOnly);

    /// <summary>The device the first deserializer that answers names, not checked against the machine.</summary>
    internal string Deserialize(Storage storage, string tag)
    {
        foreach (var h in _snapshot)
        {
            switch (h.Deserializer?.Invoke(storage, tag))
            {
                case null: continue;
                case string device: return device;
                case Storage s: return s.Device;
                case var other:
                    throw new TorchSerialException(ErrorIds.InvalidMapLocation, ErrorKind.InvalidArgument,
                        $"The deserializer '{h.Name}' returned {other.GetType().Name}; it must return a device name, " +
                            "a storage, or nothing.");
            }
        }
        throw new TorchSerialException(ErrorIds.UnknownLocation, ErrorKind.InvalidData,
            $"Don't know how to restore the data location of storage '{storage.Key}' (tagged with '{tag}'). " +
            "Load with -MapLocation cpu, or register a deserializer for this tag with Register-TorchLocation.");
    }

    private static List<LocationHandler> BuiltInHandlers() => new()
    {
        new("cpu", 10, s => s.Device is DeviceNames.Cpu or DeviceNames.IlgpuCpu ? "cpu" : null, (_, tag) =>
            tag == "cpu" ? "cpu" : null) { IsBuiltIn = true },
        new("cuda", 20, s => s.Device.StartsWith("cuda:", StringComparison.Ordinal) ? s.Device : null, (_, tag) =>
            tag.StartsWith("cuda", StringComparison.Ordinal) ? Cuda(tag) : null) { IsBuiltIn = true },
        new("mps", 21, null, (_, tag) =>
            tag.StartsWith("mps", StringComparison.Ordinal) ? Missing("MPS", tag) : null) { IsBuiltIn = true },
        new("meta", 22, null, (_, tag) => tag == "meta" ? Missing("meta", tag) : null) { IsBuiltIn = true },
        new("hpu", 24, null, (_, tag) =>
            tag.StartsWith("hpu", StringComparison.Ordinal) ? Missing("HPU", tag) : null) { IsBuiltIn = true },
        new("xpu", 25, null, (_, tag) =>
            tag.StartsWith("xpu", StringComparison.Ordinal) ? Missing("XPU", tag) : null) { IsBuiltIn = true },
        new("mtia", 26, null, (_, tag) =>
            tag.StartsWith("mtia", StringComparison.Ordinal) ? Missing("MTIA", tag) : null) { IsBuiltIn = true },
        new(DeviceNames.IlgpuCpu, 30, null, (_, tag) => tag == DeviceNames.IlgpuCpu ? tag : null) { IsBuiltIn = true },
    };

    /// <summary>A CUDA tag's device name: 'cuda' is 'cuda:0'.</summary>
    private static string Cuda(string tag)
    {
        int index = 0;
        if (tag.Length > 4 && !(tag[4] == ':' && int.TryParse(tag.AsSpan(5), out index)))
            throw new TorchSerialException(ErrorIds.UnknownLocation, ErrorKind.InvalidData, $"'{tag}' is not a CUDA location; expected 'cuda' or 'cuda:N'.");
        return $"cuda:{index}";
    }

    /// <summary>torch's validate_cuda_device, with its two messages adapted to -MapLocation, and the same for ILGPU's
    /// CPU device.</summary>
    internal static string Validate(string device, DevicePlatform platform)
    {
        if (device == DeviceNames.Cpu) return device;
        if (device == DeviceNames.IlgpuCpu)
            return platform.HasIlgpuCpu ? device
                : throw new TorchSerialException(ErrorIds.DeviceUnavailable, ErrorKind.ResourceUnavailable,
                    "ILGPU's CPU accelerator is not available in this process.");
        if (!device.StartsWith("cuda:", StringComparison.Ordinal) || !int.TryParse(device.AsSpan(5), out int index)
            || index < 0)
            throw new TorchSerialException(ErrorIds.DeviceUnavailable, ErrorKind.ResourceUnavailable,
                $"The device '{device}' is not available here. Get-TorchDevice lists the devices that are.");
        int count = platform.CudaCount;
        if (count == 0)
            throw new TorchSerialException(ErrorIds.DeviceUnavailable, ErrorKind.ResourceUnavailable,
                "Attempting to deserialize object on a CUDA device but no CUDA device is available (ILGPU found " +
                    "none). " +
                "If you are running on a CPU-only machine, use -MapLocation cpu to map your storages to the CPU.");
        if (index >= count)
            throw new TorchSerialException(ErrorIds.DeviceUnavailable, ErrorKind.ResourceUnavailable,
                $"Attempting to deserialize object on CUDA device {index} but only {count} CUDA " +
                    $"device{(count == 1 ? " is" : "s are")} available. " +
                "Use -MapLocation to map your storages to an existing device.");
        return device;
    }

    private static string Missing(string backend, string tag) =>
        throw new TorchSerialException(ErrorIds.DeviceUnavailable, ErrorKind.ResourceUnavailable,
        $"Attempting to deserialize object on the {backend} device (tagged '{tag}'), which TorchSerial cannot use. " +
        "If you are running on a CPU-only machine, use -MapLocation cpu to map your storages to the CPU.");
}

/// <summary>One (priority, tagger, deserializer) entry of a <see cref="LocationRegistry"/>.</summary>
public sealed class LocationHandler
{
    public LocationHandler(string name, int priority, Func<Storage, string?>? tagger, Func<Storage, string,
        object?>? deserializer)
    {
        Name = name; Priority = priority; Tagger = tagger; Deserializer = deserializer;
    }

    public string Name { get; }
    public int Priority { get; }
    // The delegates stay inside: shown or serialized they are only a .NET type name, so the facts are published.
    internal Func<Storage, string?>? Tagger { get; }
    internal Func<Storage, string, object?>? Deserializer { get; }

    /// <summary>True when it names the tag storages are saved with.</summary>
    public bool HasTagger => Tagger is not null;

    /// <summary>True when it turns tags into devices on load.</summary>
    public bool HasDeserializer => Deserializer is not null;
    public bool IsBuiltIn { get; init; }

    /// <summary>True when its priority was taken at registration, so it went to the end (torch's behaviour).</summary>
    public bool CollidedLate { get; internal set; }

    public override string ToString() => $"{Name} ({Priority})";
}
