using System.Collections;
using TorchSerial.Errors;
using TorchSerial.Reading;
using TorchSerial.Tensors;
using TorchSerial.Torch;
using TorchSerial.Writing;

namespace TorchSerial.Toolbox;

/// <summary>
/// Proves a save: reads the written file (or set) back through the ordinary reader, so every container check and
/// CRC runs, and compares each source tensor's dtype, shape and logical bytes with what was written, chunk by chunk.
/// A name a safetensors save dropped as a shared duplicate must be recorded in the metadata as removed → kept.
/// </summary>
public static class SaveVerifier
{
    private const int ChunkBytes = 1 << 20;

    /// <param name="root">What was saved.</param>
    /// <param name="normalize">The save's unwrapping of caller objects (PSObject), or null.</param>
    /// <param name="writtenPath">The file written, or a set's index.</param>
    /// <param name="ct">Stops the comparison between chunks.</param>
    public static void Verify(object? root, Func<object?, object?>? normalize, string writtenPath,
        CancellationToken ct = default)
    {
        var sources = Sources(root, normalize);
        using var written = CheckpointReader.Open(writtenPath);
        var byName = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var t in written.Tensors) byName.TryAdd(t.Name, t);
        foreach (var (name, source) in sources)
        {
            ct.ThrowIfCancellationRequested();
            if (!byName.TryGetValue(name, out var copy))
            {
                if (written.Metadata?[name] is string kept && byName.ContainsKey(kept)) continue;
                throw Failed($"tensor '{name}' is not in the written file");
            }
            if (copy.DType != source.DType || copy.Shape != source.Shape)
                throw Failed($"tensor '{name}' was {source.DType}[{string.Join(", ", source.Shape)}] but reads back " +
                    $"as " +
                    $"{copy.DType}[{string.Join(", ", copy.Shape)}]");
            using var a = source.EnumerateChunks(ChunkBytes).GetEnumerator();
            using var b = copy.EnumerateChunks(ChunkBytes).GetEnumerator();
            long at = 0;
            while (a.MoveNext())
            {
                if (!b.MoveNext() || !a.Current.AsSpan().SequenceEqual(b.Current))
                    throw Failed($"the bytes of tensor '{name}' differ from its source at or after byte {at}");
                at += a.Current.Length;
            }
        }
    }

    /// <summary>A state_dict by name; any other object by the key paths of its tensors (the caller's tensors are not
    /// renamed).</summary>
    private static List<KeyValuePair<string, Tensor>> Sources(object? root, Func<object?, object?>? normalize)
    {
        object? plain = normalize is null ? root : normalize(root);
        if (plain is IDictionary d && d.Values.Cast<object?>().All(v => (normalize is null ? v
            : normalize(v)) is Tensor))
            return FlatStateDict.From(root, normalize, "a state_dict");
        return TensorCollector.Collect(plain, rename: false).Select(t => new KeyValuePair<string, Tensor>(t.Name,
            t)).ToList();
    }

    private static TorchSerialException Failed(string what)
        => new(ErrorIds.VerifyFailed, ErrorKind.InvalidData,
            $"Verification of the saved file failed: {what}. The file was written but is not a faithful copy.");
}
