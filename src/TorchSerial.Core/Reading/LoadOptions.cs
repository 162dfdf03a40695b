using TorchSerial.Pickle;

namespace TorchSerial;

/// <summary>The knobs of a load; the counterparts of torch.load's arguments.</summary>
public sealed class LoadOptions
{
    /// <summary>Which globals the pickle may reference (torch's weights_only allow-list plus user patterns).</summary>
    public GlobalPolicy Policy { get; init; } = GlobalPolicy.Default;

    /// <summary>How Python 2 byte strings are read (torch's <c>encoding=</c>, default utf-8).</summary>
    public StringEncoding Encoding { get; init; } = StringEncoding.Utf8;

    /// <summary>torch's map_location: where each storage goes (a device name converts implicitly). Default: where it was saved.</summary>
    public MapLocation MapLocation { get; init; } = MapLocation.Default;

    /// <summary>The location handlers (torch's register_package); <see cref="LocationRegistry.BuiltIn"/> unless the caller keeps its own.</summary>
    public LocationRegistry Registry { get; init; } = LocationRegistry.BuiltIn;

    /// <summary>
    /// The most values one pickle may push (about 32 bytes of memory each). Real checkpoints push thousands;
    /// the cap turns a pickle bomb into an error instead of exhausting the session's memory.
    /// </summary>
    public long MaxPickleValues { get; init; } = DefaultMaxPickleValues;

    public const long DefaultMaxPickleValues = 32L << 20;

    /// <summary>
    /// Check each zip record's bytes against the CRC-32 stored for it (default). torch.load never does, and
    /// loads damaged data silently; turn this off only to recover what a damaged file still holds.
    /// </summary>
    public bool VerifyCrc { get; init; } = true;

    /// <summary>Reports bytes read so far and the total, as storages are read (eager loads).</summary>
    public Action<long, long>? Progress { get; init; }

    /// <summary>The same options, reporting progress to <paramref name="progress"/>.</summary>
    public LoadOptions WithProgress(Action<long, long>? progress) => Copy(progress, Snapshot, Observer, Policy, MapLocation);

    internal LoadOptions WithSnapshot(Sources.FileSnapshot snapshot) => Copy(Progress, snapshot, Observer, Policy, MapLocation);

    /// <summary>The scanner's second pass: every global admitted (as inert data) and reported, every storage on the host.</summary>
    internal LoadOptions ForInventory(IPickleObserver observer) => Copy(Progress, Snapshot, observer, new GlobalPolicy(new[] { "*" }), "cpu");

    /// <summary>For rewriting tags: the file's structure, every storage left on the host, no device checked.</summary>
    internal LoadOptions ForRetagging() => Copy(null, Snapshot, Observer, Policy, "cpu");

    private LoadOptions Copy(Action<long, long>? progress, Sources.FileSnapshot? snapshot, IPickleObserver? observer, GlobalPolicy policy, MapLocation map) => new()
    {
        Policy = policy, Encoding = Encoding, MapLocation = map, Registry = Registry, MaxPickleValues = MaxPickleValues,
        VerifyCrc = VerifyCrc, Progress = progress, Snapshot = snapshot, Observer = observer,
    };

    /// <summary>Set for lazy loads: the open file's identity, checked before every read.</summary>
    internal Sources.FileSnapshot? Snapshot { get; init; }

    /// <summary>Told about every global a pickle references and every opcode that uses one (the scanner listens).</summary>
    internal IPickleObserver? Observer { get; init; }
}
