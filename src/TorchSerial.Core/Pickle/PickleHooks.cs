namespace TorchSerial.Pickle;

/// <summary>
/// What gives a pickle's names and references their meaning. The VM itself knows no library: it asks these
/// hooks what a GLOBAL is, what a persistent id stands for, and whether a value it does not know takes BUILD
/// state. The torch layer supplies them for checkpoints.
/// </summary>
internal sealed class PickleHooks
{
    /// <summary>The full dotted name of a global, after any renames the reader applies (Python 2 module
    /// names).</summary>
    public Func<string, string, string> FullName { get; init; } = (module, name) => module + "." + name;

    /// <summary>(module, name, record, offset) → the value a GLOBAL pushes, or an error for a refused name.</summary>
    public required Func<string, string, string, long, object> FindClass { get; init; }

    /// <summary>The value a persistent id stands for.</summary>
    public required Func<object?, object?> PersistentLoad { get; init; }

    /// <summary>True when <see cref="PersistentLoad"/> keeps no reference to the id tuple it is given, so the VM may
    /// hand it a reused one.</summary>
    public bool BorrowsPersistentId { get; init; }

    /// <summary>Applies BUILD state to a value the VM does not model itself; false when the value cannot take
    /// state.</summary>
    public Func<object?, object?, bool> Build { get; init; } = (_, _) => false;
}

/// <summary>Default bounds on what one pickle may make.</summary>
internal static class PickleLimits
{
    /// <summary>Values one pickle may push (about 32 bytes of memory each); real checkpoints push thousands.</summary>
    public const long DefaultMaxValues = 32L << 20;

    /// <summary>
    /// Estimated bytes the values of one pickle may hold: 512 MiB. The largest real checkpoint pickles hold tens of MB
    /// (a 40,000-tensor state_dict: about 25 MB by this estimate); a 100 KB deflated bomb expanding into a list of 50
    /// million ints is stopped at this budget instead of after gigabytes.
    /// </summary>
    public const long DefaultMaxBytes = 512L << 20;
}
