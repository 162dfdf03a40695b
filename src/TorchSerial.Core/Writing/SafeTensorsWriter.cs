using TorchSerial.Buffers;
using TorchSerial.Containers;
using TorchSerial.Errors;
using TorchSerial.Tensors;

namespace TorchSerial.Writing;

/// <summary>
/// Writes safetensors as the reference writer does: the header (<see cref="SafeTensorsHeader.Build"/>: widest dtype
/// first, then by name, space-padded to 8 bytes), then each tensor's logical bytes, streamed chunk by chunk, so a
/// view is written contiguous and memory stays flat for any size.
/// </summary>
internal static class SafeTensorsWriter
{
    private const int ChunkSize = 1 << 20;

    /// <summary>Writes <paramref name="tensors"/> (already free of shared duplicates) with <paramref
    /// name="metadata"/>.</summary>
    public static void Write(IReadOnlyList<KeyValuePair<string, Tensor>> tensors, IReadOnlyList<KeyValuePair<string,
        string>> metadata,
        Stream output, Action<int>? progress, CancellationToken ct, Action? written = null)
    {
        var byName = new Dictionary<string, Tensor>(tensors.Count, StringComparer.Ordinal);
        foreach (var (name, t) in tensors)
            if (!byName.TryAdd(name, t))
                throw new TorchSerialException(ErrorIds.InvalidSaveInput, ErrorKind.InvalidData,
                    $"Two tensors are both named '{name}'.");
        var header = SafeTensorsHeader.Build(tensors.Select(t => (t.Key, Code(t.Key, t.Value), LogicalShape(t.Value))),
            metadata);
        output.Write(header.ToBytes());
        var scratch = new byte[ChunkSize];
        foreach (var e in header.Entries)
        {
            var tensor = byName[e.Name];
            BackgroundWriteStream.Expect(output, tensor.Storage.Buffer);
            tensor.CopyTo(chunk => { output.Write(chunk); progress?.Invoke(chunk.Length); }, scratch, ct);
            written?.Invoke();
        }
    }

    /// <summary>The metadata a file gets: <c>format: pt</c>, the removed → kept pairs, then the caller's (whose keys
    /// win).</summary>
    public static List<KeyValuePair<string, string>> Metadata(IEnumerable<KeyValuePair<string, string>> removed,
        IReadOnlyList<KeyValuePair<string, string>>? user)
    {
        var list = new List<KeyValuePair<string, string>> { SafeTensorsFormat.FormatEntry };
        list.AddRange(removed);
        foreach (var kv in user ?? Array.Empty<KeyValuePair<string, string>>())
        {
            int at = list.FindIndex(e => e.Key == kv.Key);
            if (at >= 0) list[at] = kv; else list.Add(kv);
        }
        return list;
    }

    private static SafeTensorsDType Code(string name, Tensor t) => SafeTensorsFormat.FromTorch(t.DTypeInfo)
        ?? throw new TorchSerialException(ErrorIds.UnsupportedSaveFormat, ErrorKind.InvalidData,
            $"Tensor '{name}' is {t.DType}, which safetensors has no dtype for (it has " +
            $"{string.Join(", ", SafeTensorsFormat.DTypes.Where(d => d.TorchDType is not null).Select(d => d.TorchDType))}). " +
            "Convert it first or save this checkpoint as a torch file.");

    /// <summary>The header shape: float4_e2m1fn_x2 holds two F4 values per element, so its last dimension
    /// doubles.</summary>
    private static long[] LogicalShape(Tensor t)
    {
        var code = SafeTensorsFormat.FromTorch(t.DTypeInfo);
        if (code is null || code.ValuesPerElement == 1 || t.Rank == 0) return t.Shape.Items;
        var shape = (long[])t.Shape.Items.Clone();
        shape[^1] *= code.ValuesPerElement;
        return shape;
    }
}
