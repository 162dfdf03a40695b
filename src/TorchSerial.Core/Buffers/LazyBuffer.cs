using TorchSerial.Errors;
namespace TorchSerial.Buffers;

/// <summary>
/// Load-once: the bytes stay in their source (a file range, with its CRC and byte-swap layers) until first
/// needed, are then read once into host memory (and moved to their device, when placed on one), and served
/// from there. A streaming save of a storage not read yet goes straight from the source and keeps nothing.
/// </summary>
internal sealed class LazyBuffer : StorageBuffer
{
    private readonly long _length;
    private readonly long _managedLimit;
    private readonly string _key;
    private StorageBuffer? _source;
    private StorageBuffer? _resident;
    private string _device = "cpu";
    private Func<string, StorageBuffer, StorageBuffer>? _place;
    private IDeferredSource? _deferred;
    private readonly bool _verifyCrc;

    // deferred: where the bytes are, when their reader is made on first use (source is then null); verifyCrc:
    // whether to check them against the CRC it recorded.
    public LazyBuffer(string key, long length, StorageBuffer? source,
        long managedLimit = HostBuffer.DefaultManagedLimit, IDeferredSource? deferred = null, bool verifyCrc = false)
    {
        _key = key;
        _length = length;
        _source = source;
        _managedLimit = managedLimit;
        _deferred = deferred;
        _verifyCrc = verifyCrc;
    }

    public override long Length => _length;
    public override string Device => _resident?.Device ?? _device;
    public override bool IsResident => _resident is not null;

    /// <summary>Where the bytes were placed once read; null before.</summary>
    public StorageBuffer? Resident => _resident;

    public override uint? KnownCrc
    {
        get => _resident?.KnownCrc;
        set { if (_resident is not null) _resident.KnownCrc = value; }
    }

    /// <summary>True when the source holds big-endian elements.</summary>
    public bool BigEndian { get; init; }

    /// <summary>Element size to byte-swap by (big-endian files); fixed by the first tensor over an untyped
    /// storage.</summary>
    public int SwapUnit { get; set; }

    /// <summary>For formats that list storage data after the pickle (legacy stream): where the bytes are, once
    /// known.</summary>
    public void Attach(StorageBuffer source) => _source = source;

    /// <summary>Where the bytes go when read: a device name and the function that moves host bytes there.</summary>
    public void PlaceOn(string device, Func<string, StorageBuffer, StorageBuffer>? place)
    {
        _device = device;
        _place = place;
    }

    public override void Read(long offset, Span<byte> destination) => Load().Read(offset, destination);

    /// <summary>
    /// The same bytes, read from wherever they are now and never kept: a tensor assembled from saved pieces reads each
    /// piece so, and a streaming save of it then holds one scratch buffer, not the pieces.
    /// </summary>
    public StorageBuffer Unkept => new UnkeptView(this);

    private sealed class UnkeptView(LazyBuffer owner) : StorageBuffer
    {
        public override long Length => owner.Length;
        public override bool IsResident => false;

        public override void Read(long offset, Span<byte> destination)
        {
            StorageBuffer from;
            lock (owner) from = owner._resident ?? owner.Layered();
            from.Read(offset, destination);
        }
    }

    /// <summary>Copies the bytes into <paramref name="target"/> from wherever they are now, without keeping them
    /// here.</summary>
    public override uint? Fill(HostBuffer target, Action<int>? progress, CancellationToken cancellationToken)
    {
        StorageBuffer from;
        lock (this) from = _resident ?? Layered();
        return from.Fill(target, progress, cancellationToken);
    }

    public override bool ReadsInChunks
    {
        get { lock (this) return (_resident ?? Source())?.ReadsInChunks == true; }
    }

    /// <summary>A chunk from wherever the bytes are now, not kept here (a streaming save's).</summary>
    public override void ReadChunk(long offset, Span<byte> destination, ChunkChecks checks)
    {
        StorageBuffer from;
        lock (this) from = _resident ?? Layered();
        from.ReadChunk(offset, destination, checks);
    }

    public override bool TryGetSpan(long offset, int length, out ReadOnlySpan<byte> span) => Load().TryGetSpan(offset,
        length, out span);

    public override ChunkReader OpenReader()
    {
        lock (this) return (_resident ?? Layered()).OpenReader();
    }

    public override bool StreamVerifiesCrc
    {
        get { lock (this) return _resident is null && SwapUnit <= 1 && Source()?.StreamVerifiesCrc == true; }
    }

    private TorchSerialException? _refusal;

    /// <summary>Makes every load fail with <paramref name="reason"/> (its device does not exist here); streaming still
    /// works.</summary>
    public void RefuseLoad(TorchSerialException reason) => _refusal = reason;

    /// <summary>Reads the bytes into their final place, once, and returns the buffer that now holds them.</summary>
    public StorageBuffer Load(Action<int>? progress = null, CancellationToken cancellationToken = default)
    {
        lock (this)
        {
            if (_resident is not null) return _resident;
            if (_refusal is not null)
                throw new TorchSerialException(_refusal.ErrorId, _refusal.Kind,
                    $"Storage '{_key}' cannot be read: {_refusal.Message}", _refusal);
            var source = Layered();
            var host = HostBuffer.Allocate(_length, _managedLimit);
            host.KnownCrc = source.Fill(host, progress, cancellationToken);
            _source = null;
            _resident = _device == "cpu" || _place is null ? host : _place(_device, host);
            return _resident;
        }
    }

    /// <summary>The reader over the bytes, made now if it was deferred; null when the file never gave them.</summary>
    private StorageBuffer? Source()
    {
        if (_source is null && _deferred is { } deferred)
        {
            _source = CrcCheckedBuffer.Over(deferred.Open(), deferred.Crc, _verifyCrc, _key);
            _deferred = null;
        }
        return _source;
    }

    private StorageBuffer Layered()
    {
        var source = Source() ?? throw Fail.Data(ErrorIds.MissingRecord,
            $"The file never supplies the data of storage '{_key}': it is incomplete.", _key);
        return SwapUnit > 1 ? new SwappedBuffer(source, SwapUnit) : source;
    }
}
