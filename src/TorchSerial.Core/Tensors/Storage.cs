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
    private Devices.DeviceBuffer? _onDevice;
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

    /// <summary>Where the data is (or, for a lazy storage not read yet, will be): 'cpu', 'ilgpu-cpu' or 'cuda:N'.</summary>
    public string Device { get; internal set; }

    /// <summary>Whether the bytes have been read from the file yet.</summary>
    public bool IsLoaded => _root?.IsLoaded ?? (_data is not null || _onDevice is not null);

    /// <summary>The location tag to save with instead of the device's own tag (set when rewriting a file's tags).</summary>
    internal string? SaveTag { get; set; }

    /// <summary>Gives a storage its bytes once the container says where they are (legacy formats list data after the pickle).</summary>
    internal void Attach(StorageSource source) => _source = source;

    /// <summary>True when the file was written big-endian and this storage's bytes must be swapped.</summary>
    internal bool NeedsSwap { get; init; }

    /// <summary>Element size to byte-swap by once the data is read (0 = no swap).</summary>
    internal int SwapUnit { get; set; }

    /// <summary>A copy of the storage's raw bytes, in little-endian order.</summary>
    public byte[] GetBytes() => Span.ToArray();

    /// <summary>True when the bytes are checked against the container's CRC-32 as they are read.</summary>
    internal bool VerifyCrc { get; init; }

    /// <summary>
    /// The CRC-32 of the bytes as held (little-endian), once known: verified on load, or computed on a save.
    /// Storage bytes never change after they are read, so a save can reuse it instead of hashing again.
    /// </summary>
    internal uint? KnownCrc { get; private set; }

    /// <summary>The bytes on the host: the storage's own buffer, or a fresh copy back from its device.</summary>
    internal ReadOnlySpan<byte> Span
    {
        get
        {
            if (_root is not null) return _root.Span.Slice(checked((int)_rootOffset), checked((int)NumBytes));
            var host = EnsureLoaded();
            return host.Length == NumBytes || _onDevice is null ? host : _onDevice.Download(NumBytes);
        }
    }

    /// <summary>A new storage holding the same bytes on <paramref name="device"/>; the bytes are copied, never shared.</summary>
    internal Storage CopyToDevice(string device)
    {
        var copy = new Storage(Key, DType, NumBytes, SavedLocation, null, IsUntyped) { Device = device, KnownCrc = KnownCrc };
        // One copy, straight from where the bytes are (host array or device buffer) to where they go.
        if (device == "cpu")
            copy._data = _root is null && _onDevice is not null ? _onDevice.Download(NumBytes) : Span.ToArray();
        else
            copy._onDevice = Devices.DeviceBuffer.Upload(device, Span);
        return copy;
    }

    /// <summary>Reads the bytes from the source into their final buffer, once.</summary>
    internal byte[] EnsureLoaded(Action<int>? progress = null, CancellationToken cancellationToken = default)
    {
        if (_root is not null) { _root.EnsureLoaded(progress, cancellationToken); return Array.Empty<byte>(); }
        lock (this)
        {
            if (_data is not null) return _data;
            if (_onDevice is not null) return Array.Empty<byte>();
            if (NumBytes > Array.MaxLength)
                throw Fail.Unsupported(ErrorIds.TensorTooLarge,
                    $"Storage '{Key}' holds {NumBytes} bytes, more than one .NET array can hold ({Array.MaxLength}).");
            var source = SourceOrFail();
            var data = GC.AllocateUninitializedArray<byte>((int)NumBytes);
            source.ReadInto(data, progress, cancellationToken);
            if (VerifyCrc) CheckCrc(source, data);
            if (SwapUnit > 1) ByteOrder.SwapInPlace(data, SwapUnit);
            else if (VerifyCrc && source.ExpectedCrc is { } verified) KnownCrc = verified;
            _source = null;
            if (Device == "cpu") return _data = data;
            // Placed on an accelerator: the bytes live in its buffer, and the host copy is let go.
            _onDevice = Devices.DeviceBuffer.Upload(Device, data);
            return Array.Empty<byte>();
        }
    }

    /// <summary>
    /// Streams the bytes (little-endian) to <paramref name="sink"/> through <paramref name="buffer"/>. A storage
    /// not yet read is streamed from its source and not kept, so saving a lazy checkpoint does not grow memory.
    /// </summary>
    /// <returns>The CRC-32 of the streamed bytes when it is known without hashing them again; otherwise null.</returns>
    internal uint? CopyTo(Action<ReadOnlyMemory<byte>> sink, byte[] buffer, CancellationToken cancellationToken)
    {
        StorageSource? source;
        lock (this) source = _root is null && _data is null && _onDevice is null ? _source : null;
        if (source is null)
        {
            var memory = _root is not null || _onDevice is not null || Device != "cpu" ? Span.ToArray().AsMemory() : EnsureLoaded(cancellationToken: cancellationToken).AsMemory();
            for (int at = 0; at < memory.Length; at += buffer.Length)
            {
                cancellationToken.ThrowIfCancellationRequested();
                sink(memory.Slice(at, Math.Min(buffer.Length, memory.Length - at)));
            }
            return _root is null ? KnownCrc : null;
        }
        var crc = VerifyCrc && source.ExpectedCrc is not null ? new System.IO.Hashing.Crc32() : null;
        source.CopyTo(chunk =>
        {
            crc?.Append(chunk.Span);
            if (SwapUnit > 1)
            {
                // The chunk lives in the copy buffer, which the source refills next: swapping it in place is safe.
                var swapped = Writable(chunk);
                ByteOrder.SwapInPlace(swapped.Span, SwapUnit);
                sink(swapped);
            }
            else sink(chunk);
        }, buffer, cancellationToken);
        if (crc is not null && crc.GetCurrentHashAsUInt32() != source.ExpectedCrc) throw CrcMismatch(source);
        // Verified and not swapped: the bytes written are the bytes the container's CRC describes.
        return crc is not null && SwapUnit <= 1 ? source.ExpectedCrc : null;
    }

    /// <summary>True when <see cref="CopyTo"/> will verify, and so return, the CRC of what it streams.</summary>
    internal bool StreamsVerifiedCrc
    {
        get { lock (this) return _root is null && _data is null && _onDevice is null && Device == "cpu" && VerifyCrc && _source?.ExpectedCrc is not null && SwapUnit <= 1; }
    }

    /// <summary>Remembers a CRC a save computed, so the next save of the same storage does not hash it again.</summary>
    internal void RememberCrc(uint crc)
    {
        if (_root is null && _data is not null) KnownCrc = crc;
    }

    private static Memory<byte> Writable(ReadOnlyMemory<byte> chunk)
        => System.Runtime.InteropServices.MemoryMarshal.AsMemory(chunk);

    private StorageSource SourceOrFail() => _source
        ?? throw Fail.Data(ErrorIds.MissingRecord, $"The file never supplies the data of storage '{Key}': it is incomplete.", Key);

    private void CheckCrc(StorageSource source, ReadOnlySpan<byte> data)
    {
        if (source.ExpectedCrc is not { } expected) return;
        if (System.IO.Hashing.Crc32.HashToUInt32(data) != expected) throw CrcMismatch(source);
    }

    private TorchSerialException CrcMismatch(StorageSource source) => Fail.Data(ErrorIds.CrcMismatch,
        $"The bytes of storage '{Key}' do not match the CRC-32 recorded for them (expected {source.ExpectedCrc:x8}): the file was damaged " +
        "(or changed while open). torch.load would load them silently. Fetch the file again, or load with -SkipCrc to recover what it holds.", Key);
}
