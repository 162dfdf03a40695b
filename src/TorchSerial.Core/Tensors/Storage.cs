using TorchSerial.Sources;

namespace TorchSerial;

/// <summary>
/// One storage of a checkpoint: a flat run of bytes that one or more tensors view. Tensors that
/// shared a storage in the file hold the very same <see cref="Storage"/> object.
/// </summary>
public sealed class Storage
{
    private StorageSource? _source;
    private byte[]? _data;
    private readonly Storage? _root;
    private readonly long _rootOffset;

    internal Storage(string key, DType dtype, long numBytes, string savedLocation, StorageSource? source, bool untyped)
    {
        Key = key;
        DType = dtype;
        NumBytes = numBytes;
        SavedLocation = savedLocation;
        Device = "cpu";
        IsUntyped = untyped;
        _source = source;
    }

    /// <summary>A storage that is a slice of <paramref name="root"/> (legacy-format view storages).</summary>
    internal Storage(string key, Storage root, long byteOffset, long numBytes)
    {
        Key = key;
        DType = root.DType;
        NumBytes = numBytes;
        SavedLocation = root.SavedLocation;
        Device = root.Device;
        IsUntyped = root.IsUntyped;
        _root = root;
        _rootOffset = byteOffset;
    }

    /// <summary>The storage's key in the file (<c>data/&lt;key&gt;</c> in a zip checkpoint).</summary>
    public string Key { get; }

    /// <summary>Element type of the storage: the tensor dtype for typed storages, uint8 for untyped ones.</summary>
    public DType DType { get; }

    public bool IsUntyped { get; }

    public long NumBytes { get; }

    /// <summary>Number of elements of <see cref="DType"/>.</summary>
    public long NumElements => NumBytes / DType.ItemSize;

    /// <summary>The location tag stored in the file, e.g. <c>cuda:1</c>.</summary>
    public string SavedLocation { get; }

    /// <summary>Where the data is now.</summary>
    public string Device { get; internal set; }

    /// <summary>Whether the bytes have been read from the file yet.</summary>
    public bool IsLoaded => _root?.IsLoaded ?? _data is not null;

    /// <summary>Gives a storage its bytes once the container says where they are (legacy formats list data after the pickle).</summary>
    internal void Attach(StorageSource source) => _source = source;

    /// <summary>True when the file was written big-endian and this storage's bytes must be swapped.</summary>
    internal bool NeedsSwap { get; init; }

    /// <summary>Element size to byte-swap by once the data is read (0 = no swap).</summary>
    internal int SwapUnit { get; set; }

    /// <summary>A copy of the storage's raw bytes, in little-endian order.</summary>
    public byte[] GetBytes() => Span.ToArray();

    internal ReadOnlySpan<byte> Span
    {
        get
        {
            if (_root is not null) return _root.Span.Slice(checked((int)_rootOffset), checked((int)NumBytes));
            return EnsureLoaded();
        }
    }

    /// <summary>Reads the bytes from the source into their final buffer, once.</summary>
    internal byte[] EnsureLoaded()
    {
        if (_root is not null) { _root.EnsureLoaded(); return Array.Empty<byte>(); }
        if (_data is not null) return _data;
        if (NumBytes > Array.MaxLength)
            throw Fail.Unsupported(ErrorIds.TensorTooLarge,
                $"Storage '{Key}' holds {NumBytes} bytes, more than one .NET array can hold ({Array.MaxLength}).");
        if (_source is null)
            throw Fail.Data(ErrorIds.MissingRecord, $"The file never supplies the data of storage '{Key}': it is incomplete.", Key);
        var data = GC.AllocateUninitializedArray<byte>((int)NumBytes);
        _source.ReadInto(data);
        if (SwapUnit > 1) ByteOrder.SwapInPlace(data, SwapUnit);
        _data = data;
        _source = null;
        return data;
    }
}
