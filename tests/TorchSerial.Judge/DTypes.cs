using System.Security.Cryptography;
using TorchSharp;
using static TorchSharp.torch;

namespace TorchSerial.Judge;

/// <summary>torch's dtype names and LibTorch's ScalarType codes. TorchSharp's enum stops at 15; LibTorch 2.10 takes
/// the later codes as they are (c10/core/ScalarType.h's order, confirmed by the storage names it pickles).</summary>
internal static class DTypes
{
    public static readonly IReadOnlyList<(string Name, int Code)> All =
    [
        ("uint8", 0), ("int8", 1), ("int16", 2), ("int32", 3), ("int64", 4), ("float16", 5), ("float32", 6),
        ("float64", 7), ("complex64", 9), ("complex128", 10), ("bool", 11), ("bfloat16", 15),
        ("float8_e5m2", 23), ("float8_e4m3fn", 24), ("float8_e5m2fnuz", 25), ("float8_e4m3fnuz", 26),
        ("uint16", 27), ("uint32", 28), ("uint64", 29), ("float8_e8m0fnu", 44),
    ];

    public static ScalarType Of(string name) => (ScalarType)All.Single(d => d.Name == name).Code;

    public static string NameOf(ScalarType type) => All.Single(d => d.Code == (int)type).Name;

    public static bool IsFloat8(string name) => name.StartsWith("float8_", StringComparison.Ordinal);

    /// <summary>A tensor of <paramref name="type"/> holding exactly <paramref name="bytes"/> (there is no
    /// view(dtype) in TorchSharp).</summary>
    public static Tensor FromBytes(byte[] bytes, ScalarType type, int itemSize)
    {
        var t = torch.empty(bytes.Length / itemSize, dtype: type);
        bytes.CopyTo(t.bytes);
        return t;
    }

    /// <summary>The logical bytes of a tensor in row-major order, whatever its strides.</summary>
    public static byte[] LogicalBytes(Tensor t) => t.contiguous().bytes.ToArray();

    public static string Sha256(Tensor t) => Convert.ToHexString(SHA256.HashData(LogicalBytes(t))).ToLowerInvariant();

    /// <summary>One tensor as the tests compare it: dtype, shape, strides, offset and the SHA-256 of its
    /// bytes.</summary>
    public static Dictionary<string, object> Describe(string name, Tensor t, string? storage = null) => new()
    {
        ["name"] = name, ["dtype"] = NameOf(t.dtype), ["shape"] = t.shape, ["stride"] = t.stride(),
        ["offset"] = t.storage_offset(), ["sha256"] = Sha256(t), ["storage"] = storage ?? name,
    };
}
