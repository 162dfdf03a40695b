using System.Text;
using System.Text.Json;
using TorchSerial.Errors;

namespace TorchSerial.Containers;

/// <summary>
/// The <c>*.index.json</c> of a sharded set (formats-next.md §1.7): <c>metadata</c> (with <c>total_size</c>) and
/// <c>weight_map</c>, tensor name → shard file, in file order. Validated once when read or built: every shard
/// name is a plain file name in the index's folder (never a path that escapes it) and no tensor is listed twice.
/// </summary>
public sealed class ShardIndex
{
    /// <summary>The largest index read: real ones are a few hundred KB.</summary>
    public const long MaxLength = 100_000_000;

    private ShardIndex(IReadOnlyList<KeyValuePair<string, object?>> metadata, IReadOnlyList<KeyValuePair<string,
        string>> weightMap)
    {
        Metadata = metadata;
        WeightMap = weightMap;
        Shards = weightMap.Select(w => w.Value).Distinct(StringComparer.Ordinal).ToList();
        TotalSize = metadata.FirstOrDefault(m => m.Key == "total_size").Value switch
        {
            long l => l,
            double d when d == Math.Floor(d) && d >= 0 && d < 9e18 => (long)d,
            _ => null,
        };
    }

    /// <summary>The metadata object's members: numbers as long or double, strings, booleans; nested values as JSON
    /// text.</summary>
    public IReadOnlyList<KeyValuePair<string, object?>> Metadata { get; }

    /// <summary>Tensor name → shard file name, in the index's order.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> WeightMap { get; }

    /// <summary>The shard files, in the order the weight map first names them.</summary>
    public IReadOnlyList<string> Shards { get; }

    /// <summary><c>metadata.total_size</c>: the bytes of every distinct storage of the set; null when absent.</summary>
    public long? TotalSize { get; }

    /// <summary>True when the first bytes look like an index: a JSON object that names its weight map or
    /// metadata.</summary>
    public static bool LooksLikeIndex(ReadOnlySpan<byte> head)
    {
        var t = head.TrimStart(" \t\r\n"u8);
        if (t.StartsWith("\uFEFF"u8)) t = t[3..].TrimStart(" \t\r\n"u8);
        return t.Length > 0 && t[0] == '{' && (t.IndexOf("\"weight_map\""u8) >= 0 || t.IndexOf("\"metadata\""u8) >= 0);
    }

    public static ShardIndex Parse(byte[] json)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException ex)
        {
            throw Invalid($"it is not valid JSON ({ex.Message})");
        }
        using (doc)
        {
            try { return FromDocument(doc); }
            catch (InvalidOperationException ex) { throw Invalid($"it holds a string that is not valid Unicode " +
                $"({ex.Message})"); }
        }
    }

    private static ShardIndex FromDocument(JsonDocument doc)
    {
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object) throw Invalid("it is not a JSON object");
        if (!root.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
            throw Invalid("it has no \"weight_map\" object (tensor name → shard file)");
        var metadata = new List<KeyValuePair<string, object?>>();
        if (root.TryGetProperty("metadata", out var meta) && meta.ValueKind == JsonValueKind.Object)
            foreach (var p in meta.EnumerateObject()) metadata.Add(new(p.Name, ToValue(p.Value)));
        var weights = new List<KeyValuePair<string, string>>();
        foreach (var p in map.EnumerateObject())
        {
            if (p.Value.ValueKind != JsonValueKind.String) throw Invalid($"the shard of tensor '{p.Name}' is not a " +
                $"file name");
            weights.Add(new(p.Name, p.Value.GetString()!));
        }
        return Create(metadata, weights);
    }

    /// <summary>An index for a set being written.</summary>
    public static ShardIndex Create(IReadOnlyList<KeyValuePair<string, object?>> metadata,
        IReadOnlyList<KeyValuePair<string, string>> weightMap)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (tensor, shard) in weightMap)
        {
            if (!names.Add(tensor)) throw Invalid($"it lists tensor '{tensor}' twice");
            if (shard.Length == 0 || shard is "." or ".." || shard.IndexOfAny(new[] { '/', '\\', ':', '\0' }) >= 0
                || Path.IsPathRooted(shard))
                throw Fail.Data(ErrorIds.ShardPathOutsideSet,
                    $"The index puts tensor '{tensor}' in '{shard}', which is not a plain file name beside the " +
                        $"index; shards outside " +
                    "the set's folder are refused.", shard);
        }
        return new ShardIndex(metadata, weightMap);
    }

    private static object? ToValue(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.Number => v.TryGetInt64(out long l) ? (object)l : v.GetDouble(),
        JsonValueKind.String => v.GetString(),
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.Null => null,
        _ => v.GetRawText(),
    };

    private static TorchSerialException Invalid(string why) => Fail.Data(ErrorIds.ShardIndexInvalid,
        $"The shard index is not valid: {why}.");

    /// <summary>
    /// The index as huggingface_hub writes it: Python's <c>json.dump(index, indent=2)</c>, so two-space indents,
    /// <c>", "</c>-free separators per line, non-ASCII escaped as <c>\uXXXX</c>, no final newline.
    /// </summary>
    public byte[] ToBytes()
    {
        var sb = new StringBuilder();
        sb.Append("{\n  \"metadata\": {");
        for (int i = 0; i < Metadata.Count; i++)
        {
            sb.Append(i == 0 ? "\n" : ",\n").Append("    ");
            PyString(sb, Metadata[i].Key).Append(": ");
            PyValue(sb, Metadata[i].Value);
        }
        sb.Append(Metadata.Count > 0 ? "\n  },\n" : "},\n").Append("  \"weight_map\": {");
        for (int i = 0; i < WeightMap.Count; i++)
        {
            sb.Append(i == 0 ? "\n" : ",\n").Append("    ");
            PyString(sb, WeightMap[i].Key).Append(": ");
            PyString(sb, WeightMap[i].Value);
        }
        sb.Append(WeightMap.Count > 0 ? "\n  }\n}" : "}\n}");
        return Encoding.ASCII.GetBytes(sb.ToString());
    }

    private static void PyValue(StringBuilder sb, object? value)
    {
        switch (value)
        {
            case null: sb.Append("null"); break;
            case bool b: sb.Append(b ? "true" : "false"); break;
            case long or int: sb.Append(Convert.ToString(value,
                System.Globalization.CultureInfo.InvariantCulture)); break;
            case double d: sb.Append(d.ToString("R", System.Globalization.CultureInfo.InvariantCulture)); break;
            default: PyString(sb, value.ToString() ?? ""); break;
        }
    }

    private static StringBuilder PyString(StringBuilder sb, string s) => JsonText.AppendString(sb, s,
        escapeNonAscii: true);
}
