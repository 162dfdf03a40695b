using TorchSerial.Tensors;

namespace TorchSerial.Containers;

/// <summary>One dtype code of the safetensors format: its name in the header, its width and the torch dtype.</summary>
public sealed record SafeTensorsDType(string Code, int Bits, DType? TorchDType, int Rank)
{
    /// <summary>Sub-byte codes (F4) count values in the header shape; torch packs two of them in one element.</summary>
    public int ValuesPerElement => TorchDType is null || Bits >= 8 ? 1 : 8 / Bits;
}

/// <summary>
/// The constants of the safetensors format (formats-next.md §1), shared by its reader and writer: header
/// limits, alignment, and the dtype table in the reference crate's enum order, which is also the order the
/// reference writer sorts by (descending), so every tensor lands naturally aligned.
/// </summary>
public static class SafeTensorsFormat
{
    /// <summary>The reference reader refuses a longer header (MAX_HEADER_SIZE).</summary>
    public const long MaxHeaderLength = 100_000_000;

    /// <summary>The writer pads the header with spaces so that the data starts at a multiple of this.</summary>
    public const int HeaderAlignment = 8;

    /// <summary>The reserved header key that holds the string-to-string metadata.</summary>
    public const string MetadataKey = "__metadata__";

    /// <summary>The metadata every writer of torch tensors adds (transformers refuses files without it).</summary>
    public static readonly KeyValuePair<string, string> FormatEntry = new("format", "pt");

    private static readonly SafeTensorsDType[] Table = Build(
        ("BOOL", 8, DType.Bool), ("F4", 4, DType.Float4E2M1FNx2), ("F6_E2M3", 6, null), ("F6_E3M2", 6, null),
        ("U8", 8, DType.UInt8), ("I8", 8, DType.Int8), ("F8_E5M2", 8, DType.Float8E5M2), ("F8_E4M3", 8,
            DType.Float8E4M3FN),
        ("F8_E8M0", 8, DType.Float8E8M0FNU), ("F8_E4M3FNUZ", 8, DType.Float8E4M3FNUZ), ("F8_E5M2FNUZ", 8,
            DType.Float8E5M2FNUZ),
        ("I16", 16, DType.Int16), ("U16", 16, DType.UInt16), ("F16", 16, DType.Float16), ("BF16", 16, DType.BFloat16),
        ("I32", 32, DType.Int32), ("U32", 32, DType.UInt32), ("F32", 32, DType.Float32), ("C64", 64, DType.Complex64),
        ("F64", 64, DType.Float64), ("I64", 64, DType.Int64), ("U64", 64, DType.UInt64));

    private static readonly Dictionary<string, SafeTensorsDType> ByCode = Table.ToDictionary(d => d.Code,
        StringComparer.Ordinal);
    private static readonly Dictionary<DType, SafeTensorsDType> ByTorch = Table.Where(d => d.TorchDType is not null)
        .ToDictionary(d => d.TorchDType!);

    /// <summary>Every dtype code, in the format's enum order.</summary>
    public static IReadOnlyList<SafeTensorsDType> DTypes => Table;

    public static SafeTensorsDType? FromCode(string code) => ByCode.GetValueOrDefault(code);

    /// <summary>The code a torch dtype is written as; null for dtypes the format has no code for (complex128,
    /// quantized).</summary>
    public static SafeTensorsDType? FromTorch(DType dtype) => ByTorch.GetValueOrDefault(dtype);

    /// <summary>Orders names as the reference crate does (Rust compares strings by their UTF-8 bytes, i.e. by code
    /// point).</summary>
    public static int CompareNames(string a, string b)
    {
        var ea = a.EnumerateRunes();
        var eb = b.EnumerateRunes();
        while (true)
        {
            bool ma = ea.MoveNext(), mb = eb.MoveNext();
            if (!ma || !mb) return ma.CompareTo(mb);
            int c = ea.Current.Value.CompareTo(eb.Current.Value);
            if (c != 0) return c;
        }
    }

    /// <summary>A comparer over <see cref="CompareNames"/>.</summary>
    public static IComparer<string> NameOrder { get; } = Comparer<string>.Create(CompareNames);

    private static SafeTensorsDType[] Build(params (string Code, int Bits, DType? Torch)[] rows)
        => rows.Select((r, i) => new SafeTensorsDType(r.Code, r.Bits, r.Torch, i)).ToArray();
}
