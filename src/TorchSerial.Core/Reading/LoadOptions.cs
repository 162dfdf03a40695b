using TorchSerial.Buffers;
using TorchSerial.Pickle;
using TorchSerial.Torch;

namespace TorchSerial.Reading;

/// <summary>The knobs of a load; the counterparts of torch.load's arguments.</summary>
public sealed record LoadOptions
{
    /// <summary>Which globals the pickle may reference (torch's weights_only allow-list plus user patterns).</summary>
    public GlobalPolicy Policy { get; init; } = GlobalPolicy.Default;

    /// <summary>How Python 2 byte strings are read (torch's <c>encoding=</c>, default utf-8).</summary>
    public StringEncoding Encoding { get; init; } = StringEncoding.Utf8;

    /// <summary>torch's map_location: where each storage goes (a device name converts implicitly). Default: where it
    /// was saved.</summary>
    public MapLocation MapLocation { get; init; } = MapLocation.Default;

    /// <summary>The location handlers (torch's register_package); <see cref="LocationRegistry.BuiltIn"/> unless the
    /// caller keeps its own.</summary>
    public LocationRegistry Registry { get; init; } = LocationRegistry.BuiltIn;

    /// <summary>The devices storages can be placed on; host memory only unless the caller gives the devices layer's
    /// platform.</summary>
    public DevicePlatform Devices { get; init; } = DevicePlatform.HostOnly;

    /// <summary>
    /// The most values one pickle may push (about 32 bytes of memory each). Real checkpoints push thousands;
    /// the cap turns a pickle bomb into an error instead of exhausting the session's memory.
    /// </summary>
    public long MaxPickleValues { get; init; } = PickleLimits.DefaultMaxValues;

    public const long DefaultMaxPickleValues = PickleLimits.DefaultMaxValues;

    /// <summary>
    /// The estimated bytes one pickle's values may hold (strings, lists, dicts, numbers as they are created; shared
    /// values count once). 512 MiB by default, far above any real checkpoint's pickle; a bomb stops with
    /// PickleTooLarge.
    /// </summary>
    public long MaxPickleBytes { get; init; } = PickleLimits.DefaultMaxBytes;

    public const long DefaultMaxPickleBytes = PickleLimits.DefaultMaxBytes;

    /// <summary>
    /// Check each zip record's bytes against the CRC-32 stored for it (default). torch.load never does, and
    /// loads damaged data silently; turn this off only to recover what a damaged file still holds.
    /// </summary>
    public bool VerifyCrc { get; init; } = true;

    /// <summary>
    /// Where a sharded set's inconsistencies go when they are tolerated (the cmdlets' -SkipIndexCheck writes them as
    /// warnings); null (the default) makes each an error.
    /// </summary>
    public Action<string>? Warning { get; init; }

    /// <summary>How remote checkpoints (http(s):// and hf:// addresses) are reached: token, certificates,
    /// timeouts.</summary>
    public Buffers.Remote.RemoteOptions Remote { get; init; } = Buffers.Remote.RemoteOptions.Default;

    /// <summary>Reports bytes read so far and the total, as storages are read (eager loads).</summary>
    public Action<long, long>? Progress { get; init; }

    /// <summary>The same options, reporting progress to <paramref name="progress"/>.</summary>
    public LoadOptions WithProgress(Action<long, long>? progress) => this with { Progress = progress };

    /// <summary>The largest storage held in a managed array once read; larger ones live in native memory (tests lower
    /// it).</summary>
    internal long ManagedLimit { get; init; } = HostBuffer.DefaultManagedLimit;

    /// <summary>Set for lazy loads: the open file's identity, checked before every read.</summary>
    internal FileSnapshot? Snapshot { get; init; }

    /// <summary>Told about every global a pickle references and every opcode that uses one (the scanner
    /// listens).</summary>
    internal IPickleObserver? Observer { get; init; }

    internal LoadOptions WithSnapshot(FileSnapshot snapshot) => this with { Snapshot = snapshot };

    /// <summary>
    /// Set by the scanner: a missing device is the reader's problem only once bytes are asked for, so a GPU-saved
    /// file is judged by its contents on a CPU-only machine (saved locations are data, as they are to -Lazy).
    /// </summary>
    internal bool DeferDevices { get; init; }

    /// <summary>
    /// The scanner's second pass: every global admitted (as inert data) and reported. Saved locations are only
    /// data to a scan, so every storage stays on the host and no device is asked for. CRCs are not checked: the
    /// first pass has given that verdict, and a pickle whose bytes fail theirs is what a reader that skips the check
    /// (torch.load) runs, so its globals must be listed.
    /// </summary>
    internal LoadOptions ForInventory(IPickleObserver observer)
        => this with { Observer = observer, Policy = new GlobalPolicy(new[] { "*" }), MapLocation = "cpu",
            Progress = null, VerifyCrc = false };

    /// <summary>For rewriting tags: the file's structure, every storage left on the host, no device checked.</summary>
    internal LoadOptions ForRetagging() => this with { Progress = null, MapLocation = "cpu" };

    /// <summary>How the container's storages are made under these options.</summary>
    internal StorageSettings Storages(bool bigEndian = false)
        => new(MapLocation, Registry, Devices, VerifyCrc) { BigEndian = bigEndian, ManagedLimit = ManagedLimit,
            DeferDeviceCheck = Snapshot is not null || DeferDevices };
}
