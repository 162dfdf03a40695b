using TorchSerial.Errors;
using TorchSerial.Tensors;
using TorchSerial.Torch;
namespace TorchSerial.Writing;

/// <summary>
/// The storages a save writes, keyed by storage identity in first-pickled order ('0', '1', …) as torch
/// does, so tensors that share a storage share one record. It also fixes the dtype each storage is
/// written as: the dtype of the first tensor that views it (torch refuses mixed views, and so do we).
/// </summary>
internal sealed class StorageTable
{
    private readonly Dictionary<Storage, Entry> _byStorage = new(ReferenceEqualityComparer.Instance);

    public List<Entry> Entries { get; } = new();

    public Entry Add(Storage storage, DType viewDType)
    {
        if (_byStorage.TryGetValue(storage, out var e))
        {
            if (e.DType != viewDType && !(e.DType.IsV3 && viewDType.IsV3 && e.DType.ItemSize == viewDType.ItemSize))
                throw new TorchSerialException(ErrorIds.InvalidSaveInput, ErrorKind.InvalidData,
                    $"Cannot save multiple tensors or storages that view the same data as different types ({e.DType} " +
                        $"and {viewDType}, storage '{storage.Key}').");
            return e;
        }
        if (!viewDType.IsV3 && storage.NumBytes % viewDType.ItemSize != 0)
            throw new TorchSerialException(ErrorIds.InvalidSaveInput, ErrorKind.InvalidData,
                $"Storage '{storage.Key}' holds {storage.NumBytes} bytes, not a whole number of {viewDType} elements.");
        e = new Entry(Entries.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), storage, viewDType);
        _byStorage.Add(storage, e);
        Entries.Add(e);
        return e;
    }

    /// <summary>The record a storage goes to, as the pickler asks for it.</summary>
    public StorageRecord Record(Storage storage, DType viewDType)
    {
        var e = Add(storage, viewDType);
        return new StorageRecord(e.Key, e.DType, e.NumElements);
    }

    /// <summary>One storage as written: its key (a string object reused for every reference, as torch's is) and
    /// dtype.</summary>
    internal sealed record Entry(string Key, Storage Storage, DType DType)
    {
        /// <summary>The persistent id's size field: elements of the storage class (bytes for UntypedStorage).</summary>
        public long NumElements => DType.IsV3 ? Storage.NumBytes : Storage.NumBytes / DType.ItemSize;
    }
}
