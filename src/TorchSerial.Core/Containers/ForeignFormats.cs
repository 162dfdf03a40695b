using System.Text;
using TorchSerial.Errors;

namespace TorchSerial.Containers;

/// <summary>
/// Files people mistake for torch checkpoints, named by their own magic bytes (or, where a format has none, its
/// usual file name) with what to do instead, so a user sees "a GGUF file" rather than a generic NotACheckpoint.
/// Each has a stable ErrorId of its own.
/// </summary>
internal static class ForeignFormats
{
    // Byte signatures with bytes above 0x7F, which a u8 string literal would encode as two UTF-8 bytes.
    private static ReadOnlySpan<byte> NumpyMagic => new byte[] { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P',
        (byte)'Y' };
    private static ReadOnlySpan<byte> Hdf5Magic => new byte[] { 0x89, (byte)'H', (byte)'D', (byte)'F', 0x0D, 0x0A,
        0x1A, 0x0A };

    /// <summary>The error naming the file's real format, or null when it is none of these.</summary>
    public static TorchSerialException? Recognise(ReadOnlySpan<byte> head, string? name)
    {
        string file = name is null ? "" : Path.GetFileName(name);
        if (head.StartsWith("GGUF"u8))
            return Named(ErrorIds.GgufFile, "a GGUF file (llama.cpp/ggml weights, often quantized, in their own " +
                "layout)", "Read it with llama.cpp or the gguf Python package; TorchSerial reads torch.save, " +
                "safetensors and TorchScript files.");
        if (head.StartsWith(NumpyMagic))
            return Named(ErrorIds.NumpyFile, "a NumPy array file (.npy)", "Load it with numpy.load; if it holds " +
                "Python objects (allow_pickle), scan it with Test-TorchCheckpoint first.");
        if (head.Length >= 2 && head[0] == 0x1F && head[1] == 0x8B)
            return Named(ErrorIds.GzipFile, "gzip-compressed", "Decompress it first (gunzip, or tar -xzf for a " +
                ".tar.gz), then read the checkpoint it holds.");
        if (head.StartsWith(Hdf5Magic))
            return Named(ErrorIds.Hdf5File, "an HDF5 file (Keras .h5 weights or a TensorFlow model)",
                "Open it with h5py or Keras; to use the weights in torch, convert them there and save them with " +
                    "torch.save or safetensors.");
        if (head.StartsWith("PK\x03\x04"u8) && FirstZipEntry(head) is { } entry)
        {
            if (entry is "metadata.json" or "config.json" or "model.weights.h5"
                || file.EndsWith(".keras", StringComparison.OrdinalIgnoreCase))
                return Named(ErrorIds.KerasFile, "a Keras model archive (.keras)", "Load it with Keras " +
                    "(keras.saving.load_model); its weights are HDF5, not torch tensors.");
            if (entry.EndsWith(".npy", StringComparison.Ordinal)
                || file.EndsWith(".npz", StringComparison.OrdinalIgnoreCase))
                return Named(ErrorIds.NumpyFile, "a NumPy archive (.npz)", "Load it with numpy.load.");
        }
        // By name only where the bytes are not a zip or a pickle, which a misnamed torch file would be.
        bool torchLike = head.StartsWith("PK"u8) || (head.Length > 0 && head[0] == 0x80);
        if (!torchLike && (file.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase) || LooksLikeOnnx(head)))
            return Named(ErrorIds.OnnxFile, "an ONNX model", "Run it with onnxruntime or inspect it with the onnx " +
                "package; TorchSerial reads the checkpoints torch.save writes.");
        return null;
    }

    /// <summary>The name of a zip's first entry, from its local header.</summary>
    private static string? FirstZipEntry(ReadOnlySpan<byte> head)
    {
        if (head.Length < 30) return null;
        int length = head[26] | head[27] << 8;
        return head.Length < 30 + length ? null : Encoding.UTF8.GetString(head.Slice(30, length));
    }

    /// <summary>A ModelProto opens with ir_version (field 1, varint) then producer_name (field 2) or opset; the
    /// exporters' names follow within the first bytes.</summary>
    private static bool LooksLikeOnnx(ReadOnlySpan<byte> head)
        => head.Length > 8 && head[0] == 0x08 && head[2] == 0x12
            && (head.IndexOf("pytorch"u8) >= 0 || head.IndexOf("onnx"u8) >= 0 || head.IndexOf("tf2onnx"u8) >= 0);

    private static TorchSerialException Named(string errorId, string what, string todo)
        => Fail.Data(errorId, $"The file is {what}, not a PyTorch checkpoint. {todo}");
}
