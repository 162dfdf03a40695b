using System.Security.Cryptography;
using System.Text;
using TorchSerial.Tensors;

namespace TorchSerial.Toolbox;

/// <summary>The hash of one tensor's contents, with what it was computed over.</summary>
public sealed record TensorHashResult(string Name, string DType, DimList Shape, string Algorithm, string Hash,
    string? SourceFile);

/// <summary>
/// A hash of what a tensor is, not of how it is stored: its dtype, its shape and its logical elements in row-major
/// order, little-endian. Strides, storage offsets, sharing and the container play no part, so the same weights
/// give the same hash from a .pt, a legacy file, a safetensors file or a shard, which is how a conversion is shown
/// to be lossless. Bytes are streamed, so any size hashes in flat memory.
/// </summary>
public static class TensorHash
{
    /// <summary>The algorithms offered, as Get-FileHash names them.</summary>
    public static IReadOnlyList<string> Algorithms { get; } = new[] { "SHA256", "SHA384", "SHA512" };

    public static TensorHashResult Compute(Tensor tensor, string algorithm = "SHA256",
        CancellationToken cancellationToken = default)
    {
        var name = algorithm.ToUpperInvariant() switch
        {
            "SHA256" => HashAlgorithmName.SHA256,
            "SHA384" => HashAlgorithmName.SHA384,
            "SHA512" => HashAlgorithmName.SHA512,
            _ => throw new ArgumentException($"'{algorithm}' is not one of {string.Join(", ", Algorithms)}.",
                nameof(algorithm)),
        };
        using var hash = IncrementalHash.CreateHash(name);
        // The header makes the dtype and shape part of the hash: [2, 3] float32 and [3, 2] float32 differ.
        hash.AppendData(Encoding.UTF8.GetBytes(
            $"torchserial-tensor-v1\n{tensor.DType}\n{string.Join(',', tensor.Shape)}\n"));
        // A meta tensor has no bytes: its hash is of dtype and shape alone, marked so it never equals a real tensor's.
        if (tensor.IsMeta) hash.AppendData("meta\n"u8);
        else tensor.CopyTo(chunk => hash.AppendData(chunk), new byte[1 << 20], cancellationToken);
        return new TensorHashResult(tensor.Name, tensor.DType, tensor.Shape, name.Name!,
            Convert.ToHexString(hash.GetHashAndReset()),
            tensor.SourceFile);
    }
}
