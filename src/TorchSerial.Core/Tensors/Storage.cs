using TorchSerial.Buffers;
using TorchSerial.Errors;

namespace TorchSerial.Tensors;

/// <summary>
/// One storage of a checkpoint: a flat run of bytes that one or more tensors view. Tensors that shared a
/// storage in the file hold the very same <see cref="Storage"/> object. A storage is an immutable description
/// (key, dtype, size, saved location) over a buffer that says where the bytes are: in a file not read yet,
/// in host memory (managed or native, any size), or on a device.
/// </summary>
public sealed class Storage
{
    internal Storage(string key, DType dtype, long numBytes, string savedLocation, bool untyped, StorageBuffer buffer)
    {
        Key = key;
        DType = dtype;
        NumBytes = numBytes;
        SavedLocation = savedLocation;
        IsUntyped = untyped;
        Buffer = buffer;
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

    /// <summary>Where the data is (or, for a lazy storage not read yet, will be): 'cpu', 'ilgpu-cpu' or
    /// 'cuda:N'.</summary>
    public string Device => Buffer.Device;

    /// <summary>Whether the bytes have been read from the file yet.</summary>
    public bool IsLoaded => Buffer.IsResident;

    /// <summary>Where the bytes are.</summary>
    internal StorageBuffer Buffer { get; }

    /// <summary>A copy of the storage's raw bytes, in little-endian order (up to one array's size).</summary>
    public byte[] GetBytes()
    {
        if (NumBytes > Array.MaxLength)
            throw Fail.Unsupported(ErrorIds.TensorTooLarge,
                $"Storage '{Key}' holds {NumBytes} bytes, more than one .NET array can hold ({Array.MaxLength}). " +
                "Read it in pieces through a tensor over it: CopyTo(stream), ReadBytes(start, count) or " +
                    "EnumerateChunks().");
        var bytes = GC.AllocateUninitializedArray<byte>((int)NumBytes);
        Buffer.Read(0, bytes);
        return bytes;
    }

    /// <summary>Reads the bytes into their final place (host memory or device) now, once.</summary>
    internal void Load(Action<int>? progress = null, CancellationToken cancellationToken = default)
    {
        if (Buffer is LazyBuffer lazy) lazy.Load(progress, cancellationToken);
    }

    /// <summary>The same description over other bytes (a copy on another device).</summary>
    internal Storage WithBuffer(StorageBuffer buffer) => new(Key, DType, NumBytes, SavedLocation, IsUntyped, buffer);
}
