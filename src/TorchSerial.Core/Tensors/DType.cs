namespace TorchSerial.Tensors;

/// <summary>How the bytes of one element are interpreted; drives <see cref="Tensor.ToArray"/>.</summary>
public enum ElementKind
{
    Float, BFloat, Half, Float8E5M2, Float8E4M3FN, Float8E5M2FNUZ, Float8E4M3FNUZ, Float8E8M0FNU,
    SignedInt, UnsignedInt, Bool, Complex, ComplexHalf, Packed,
}

/// <summary>
/// A torch dtype. <see cref="ToString"/> is torch's canonical name (<c>float32</c>, not <c>float</c>),
/// the same name the pickle references as <c>torch.&lt;name&gt;</c>.
/// </summary>
public sealed class DType : IEquatable<DType>
{
    private static readonly Dictionary<string, DType> ByName = new(StringComparer.Ordinal);
    private static readonly Dictionary<string, DType> ByStorage = new(StringComparer.Ordinal);

    private DType(string name, int itemSize, ElementKind kind, string? storageClass, bool quantized = false)
    {
        Name = name;
        ItemSize = itemSize;
        Kind = kind;
        StorageClass = storageClass;
        IsQuantized = quantized;
    }

    /// <summary>torch's canonical name, e.g. <c>bfloat16</c>.</summary>
    public string Name { get; }

    /// <summary>Bytes per element (packed sub-byte dtypes count one byte per stored element).</summary>
    public int ItemSize { get; }

    internal ElementKind Kind { get; }

    /// <summary>torch's <c>dtype.is_floating_point</c>: float64/32/16, bfloat16 and the float8 dtypes.</summary>
    /// <summary>float64, float32, float16 or bfloat16: widened exactly to float64 and rounded back by <see
    /// cref="ElementCast"/>, which is what averages and adapter merges compute in.</summary>
    internal bool IsClassicFloat => Kind is ElementKind.Float or ElementKind.Half or ElementKind.BFloat;

    public bool IsFloatingPoint => Kind is ElementKind.Float or ElementKind.Half or ElementKind.BFloat
        or ElementKind.Float8E5M2 or ElementKind.Float8E4M3FN or ElementKind.Float8E5M2FNUZ
        or ElementKind.Float8E4M3FNUZ or ElementKind.Float8E8M0FNU;

    /// <summary>The legacy storage class (<c>FloatStorage</c>) for classic dtypes; null for the v3 dtypes.</summary>
    public string? StorageClass { get; }

    /// <summary>The typed storage class LibTorch's C++ writer pickles for this dtype: <see cref="StorageClass"/>, or
    /// for a v3 dtype a name Python has no class for (<c>Float8_e4m3fnStorage</c>); null for the rest.</summary>
    public string? PickledStorageClass { get; private init; }

    /// <summary>True for dtypes torch saves through <c>_rebuild_tensor_v3</c> and <c>UntypedStorage</c>.</summary>
    public bool IsV3 => StorageClass is null;

    public bool IsQuantized { get; }

    /// <summary>
    /// Values one stored byte holds: 2 for quint4x2, 4 for quint2x4, 1 for every other dtype. torch counts those two in
    /// values (shape, stride, offset) over a storage counted in bytes; the bits/float4 dtypes count bytes throughout.
    /// </summary>
    public int ValuesPerByte => ReferenceEquals(this, QUInt4x2) ? 2 : ReferenceEquals(this, QUInt2x4) ? 4 : 1;

    /// <summary>Size in bytes of one scalar component, for byte-order swapping (complex swaps per part).</summary>
    internal int SwapUnit => Kind is ElementKind.Complex or ElementKind.ComplexHalf ? ItemSize / 2 : ItemSize;

    public static readonly DType Float64 = Add("float64", 8, ElementKind.Float, "DoubleStorage");
    public static readonly DType Float32 = Add("float32", 4, ElementKind.Float, "FloatStorage");
    public static readonly DType Float16 = Add("float16", 2, ElementKind.Half, "HalfStorage");
    public static readonly DType BFloat16 = Add("bfloat16", 2, ElementKind.BFloat, "BFloat16Storage");
    public static readonly DType Int64 = Add("int64", 8, ElementKind.SignedInt, "LongStorage");
    public static readonly DType Int32 = Add("int32", 4, ElementKind.SignedInt, "IntStorage");
    public static readonly DType Int16 = Add("int16", 2, ElementKind.SignedInt, "ShortStorage");
    public static readonly DType Int8 = Add("int8", 1, ElementKind.SignedInt, "CharStorage");
    public static readonly DType UInt8 = Add("uint8", 1, ElementKind.UnsignedInt, "ByteStorage");
    public static readonly DType Bool = Add("bool", 1, ElementKind.Bool, "BoolStorage");
    public static readonly DType Complex128 = Add("complex128", 16, ElementKind.Complex, "ComplexDoubleStorage");
    public static readonly DType Complex64 = Add("complex64", 8, ElementKind.Complex, "ComplexFloatStorage");
    public static readonly DType QInt8 = Add("qint8", 1, ElementKind.SignedInt, "QInt8Storage", quantized: true);
    public static readonly DType QInt32 = Add("qint32", 4, ElementKind.SignedInt, "QInt32Storage", quantized: true);
    public static readonly DType QUInt8 = Add("quint8", 1, ElementKind.UnsignedInt, "QUInt8Storage", quantized: true);
    public static readonly DType QUInt4x2 = Add("quint4x2", 1, ElementKind.Packed, "QUInt4x2Storage", quantized: true);
    public static readonly DType QUInt2x4 = Add("quint2x4", 1, ElementKind.Packed, "QUInt2x4Storage", quantized: true);

    public static readonly DType Float8E5M2 = Add("float8_e5m2", 1, ElementKind.Float8E5M2, null,
        pickledAs: "Float8_e5m2Storage");
    public static readonly DType Float8E4M3FN = Add("float8_e4m3fn", 1, ElementKind.Float8E4M3FN, null,
        pickledAs: "Float8_e4m3fnStorage");
    public static readonly DType Float8E5M2FNUZ = Add("float8_e5m2fnuz", 1, ElementKind.Float8E5M2FNUZ, null,
        pickledAs: "Float8_e5m2fnuzStorage");
    public static readonly DType Float8E4M3FNUZ = Add("float8_e4m3fnuz", 1, ElementKind.Float8E4M3FNUZ, null,
        pickledAs: "Float8_e4m3fnuzStorage");
    public static readonly DType Float8E8M0FNU = Add("float8_e8m0fnu", 1, ElementKind.Float8E8M0FNU, null,
        pickledAs: "Float8_e8m0fnuStorage");
    public static readonly DType Float4E2M1FNx2 = Add("float4_e2m1fn_x2", 1, ElementKind.Packed, null);
    public static readonly DType Bits8 = Add("bits8", 1, ElementKind.UnsignedInt, null);
    public static readonly DType Bits1x8 = Add("bits1x8", 1, ElementKind.Packed, null);
    public static readonly DType Bits2x4 = Add("bits2x4", 1, ElementKind.Packed, null);
    public static readonly DType Bits4x2 = Add("bits4x2", 1, ElementKind.Packed, null);
    public static readonly DType Bits16 = Add("bits16", 2, ElementKind.UnsignedInt, null);
    public static readonly DType Complex32 = Add("complex32", 4, ElementKind.ComplexHalf, null);
    public static readonly DType UInt16 = Add("uint16", 2, ElementKind.UnsignedInt, null, pickledAs: "UInt16Storage");
    public static readonly DType UInt32 = Add("uint32", 4, ElementKind.UnsignedInt, null, pickledAs: "UInt32Storage");
    public static readonly DType UInt64 = Add("uint64", 8, ElementKind.UnsignedInt, null, pickledAs: "UInt64Storage");

    /// <summary>Every dtype TorchSerial can hold tensors of, in torch's documentation order.</summary>
    public static IReadOnlyCollection<DType> All => ByName.Values;

    /// <summary>Looks up a dtype by torch's canonical name; null when unknown.</summary>
    public static DType? FromName(string name) => ByName.GetValueOrDefault(name);

    /// <summary>Looks up a classic dtype by its storage class name (<c>FloatStorage</c>); null when unknown.</summary>
    public static DType? FromStorageClass(string className) => ByStorage.GetValueOrDefault(className);

    /// <summary>Every storage class name a pickle may give a typed storage: the classic ones, and the names
    /// LibTorch's C++ writer (torch::pickle_save, TorchScript's torch.save) gives the v3 dtypes, which have no Python
    /// class (<c>torch.Float8_e4m3fnStorage</c>, <c>torch.UInt16Storage</c>).</summary>
    public static IReadOnlyCollection<string> StorageClassNames => ByStorage.Keys;

    /// <summary>Registers a dtype. <paramref name="storage"/> is the classic storage class it is written with;
    /// <paramref name="pickledAs"/> a v3 dtype's storage name in files LibTorch's C++ writer makes, read and never
    /// written (Python's torch.save writes these dtypes through UntypedStorage).</summary>
    private static DType Add(string name, int size, ElementKind kind, string? storage, bool quantized = false,
        string? pickledAs = null)
    {
        var d = new DType(name, size, kind, storage, quantized) { PickledStorageClass = storage ?? pickledAs };
        ByName.Add(name, d);
        if ((storage ?? pickledAs) is { } cls) ByStorage.Add(cls, d);
        return d;
    }

    public bool Equals(DType? other) => ReferenceEquals(this, other);
    public override bool Equals(object? obj) => ReferenceEquals(this, obj);
    public override int GetHashCode() => Name.GetHashCode(StringComparison.Ordinal);
    public override string ToString() => Name;
}
