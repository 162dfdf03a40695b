using TorchSerial.Errors;
using TorchSerial.Pickle;
using TorchSerial.Python;
using TorchSerial.Tensors;

namespace TorchSerial.Torch;

/// <summary>The fields of a storage persistent id, decoded and checked.</summary>
internal readonly record struct StorageClaim(StorageType Type, string Key, string Location, long NumElements,
    PyTuple? ViewMetadata)
{
    public long NumBytes => checked(NumElements * Type.DType.ItemSize);

    /// <summary>Decodes <c>('storage', type, key, location, numel[, view_metadata])</c>.</summary>
    public static StorageClaim Parse(object? pid, int expectedLength, string record)
    {
        if (pid is not PyTuple t || t.Count != expectedLength)
            throw Fail.Data(ErrorIds.InvalidPersistentId,
                $"The pickle in '{record}' has a persistent id {PickleArgs.Describe(pid)}; a {expectedLength}-tuple " +
                    "starting with 'storage' was expected.", record);
        string typename = PickleArgs.String(t[0], "persistent id typename");
        if (typename != "storage")
            throw Fail.Data(ErrorIds.InvalidPersistentId,
                $"Unknown typename for persistent_load, expected 'storage' but got '{typename}' (in " +
                    $"'{record}').", record);
        var type = t[1] as StorageType ?? throw Fail.Data(ErrorIds.InvalidPersistentId,
            $"The storage persistent id in '{record}' names {PickleArgs.Describe(t[1])} instead of a storage " +
                "class.", record);
        string key = t[2] switch { string s => s, byte[] b => System.Text.Encoding.Latin1.GetString(b), var o =>
            PyRepr.Str(o) };
        string location = PickleArgs.String(t[3], "storage location");
        long numel = PickleArgs.Long(t[4], "storage size");
        if (numel < 0)
            throw Fail.Data(ErrorIds.NegativeSize, $"Storage '{key}' claims a negative size ({numel}).", record);
        try { _ = checked(numel * type.DType.ItemSize); }
        catch (OverflowException) { throw Fail.Data(ErrorIds.ArithmeticOverflow, $"Storage '{key}' claims {numel} elements, which overflows 64-bit arithmetic.", record); }
        return new StorageClaim(type, key, location, numel, expectedLength == 6 ? t[5] as PyTuple : null);
    }
}
