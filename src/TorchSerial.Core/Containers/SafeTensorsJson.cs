using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using TorchSerial.Errors;

namespace TorchSerial.Containers;

/// <summary>
/// The JSON of a safetensors header, read strictly (one object; tensor objects with exactly dtype, shape and
/// data_offsets; string-only metadata; no duplicate names) and written as the reference writer's serde_json writes
/// it: compact, metadata first, fields in the order dtype, shape, data_offsets, only quotes, backslashes and
/// control characters escaped.
/// </summary>
internal static class SafeTensorsJson
{
    public static (List<SafeTensorsEntry> Entries, List<KeyValuePair<string, string>>? Metadata) Parse(byte[] json)
    {
        if (!Utf8.IsValid(json))
            throw Invalid("it is not valid UTF-8");
        var entries = new List<SafeTensorsEntry>();
        List<KeyValuePair<string, string>>? metadata = null;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 8 });
        try
        {
            Expect(ref reader, JsonTokenType.StartObject, "the header must be a JSON object");
            while (Next(ref reader) == JsonTokenType.PropertyName)
            {
                string name = reader.GetString()!;
                if (!seen.Add(name))
                    throw Fail.Data(ErrorIds.SafeTensorsDuplicateName,
                        $"The safetensors header has the key '{name}' twice; which one a reader keeps differs " +
                            $"between readers " +
                        "(a known way to make two tools see two different files).", name);
                if (name == SafeTensorsFormat.MetadataKey) metadata = ReadMetadata(ref reader);
                else entries.Add(ReadEntry(ref reader, name));
            }
            if (reader.Read()) throw Invalid("it holds more than one JSON value");
        }
        catch (JsonException ex)
        {
            throw Invalid($"it is not valid JSON ({ex.Message})");
        }
        catch (InvalidOperationException ex)
        {
            // A string that JSON allows but UTF-16 cannot hold (an escaped lone surrogate).
            throw Invalid($"it holds a string that is not valid Unicode ({ex.Message})");
        }
        return (entries, metadata);
    }

    private static List<KeyValuePair<string, string>>? ReadMetadata(ref Utf8JsonReader reader)
    {
        if (Next(ref reader) == JsonTokenType.Null) return null;
        if (reader.TokenType != JsonTokenType.StartObject) throw Invalid("__metadata__ must be an object of strings");
        var pairs = new List<KeyValuePair<string, string>>();
        var keys = new HashSet<string>(StringComparer.Ordinal);
        while (Next(ref reader) == JsonTokenType.PropertyName)
        {
            string key = reader.GetString()!;
            if (Next(ref reader) != JsonTokenType.String)
                throw Invalid($"__metadata__ value '{key}' is not a string (the format allows only strings there)");
            if (!keys.Add(key)) throw Fail.Data(ErrorIds.SafeTensorsDuplicateName,
                $"__metadata__ has the key '{key}' twice.", key);
            pairs.Add(new(key, reader.GetString()!));
        }
        return pairs;
    }

    private static SafeTensorsEntry ReadEntry(ref Utf8JsonReader reader, string name)
    {
        if (Next(ref reader) != JsonTokenType.StartObject) throw Invalid($"tensor '{name}' is not an object");
        string? code = null;
        long[]? shape = null, offsets = null;
        while (Next(ref reader) == JsonTokenType.PropertyName)
        {
            string field = reader.GetString()!;
            switch (field)
            {
                case "dtype" when code is null:
                    if (Next(ref reader) != JsonTokenType.String) throw Invalid($"tensor '{name}' has a dtype that " +
                        $"is not a string");
                    code = reader.GetString()!;
                    break;
                case "shape" when shape is null:
                    shape = ReadIntegers(ref reader, name, "shape");
                    break;
                case "data_offsets" when offsets is null:
                    offsets = ReadIntegers(ref reader, name, "data_offsets");
                    if (offsets.Length != 2) throw Invalid($"tensor '{name}' has {offsets.Length} data_offsets; it " +
                        $"needs [begin, end]");
                    break;
                default:
                    throw Invalid($"tensor '{name}' has the field '{field}' " +
                        $"{(field is "dtype" or "shape" or "data_offsets" ? "twice" : "that the format does not define")}");
            }
        }
        if (code is null || shape is null || offsets is null)
            throw Invalid($"tensor '{name}' lacks " +
                $"{(code is null ? "dtype" : shape is null ? "shape" : "data_offsets")}");
        var dtype = SafeTensorsFormat.FromCode(code) ?? throw Fail.Data(ErrorIds.SafeTensorsUnknownDType,
            $"Tensor '{name}' has the dtype '{code}', which the safetensors format does not define " +
            $"({string.Join(", ", SafeTensorsFormat.DTypes.Select(d => d.Code))}).", name);
        return new SafeTensorsEntry(name, dtype, shape, offsets[0], offsets[1]);
    }

    private static long[] ReadIntegers(ref Utf8JsonReader reader, string name, string field)
    {
        if (Next(ref reader) != JsonTokenType.StartArray) throw Invalid($"tensor '{name}' has a {field} that is not " +
            $"an array");
        var values = new List<long>();
        while (Next(ref reader) != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out long v) || v < 0)
                throw Invalid($"tensor '{name}' has a {field} entry that is not a non-negative integer");
            values.Add(v);
        }
        return values.ToArray();
    }

    private static JsonTokenType Next(ref Utf8JsonReader reader)
    {
        if (!reader.Read()) throw Invalid("it ends in the middle of a value");
        return reader.TokenType;
    }

    private static void Expect(ref Utf8JsonReader reader, JsonTokenType type, string why)
    {
        if (Next(ref reader) != type) throw Invalid(why);
    }

    private static TorchSerialException Invalid(string why)
        => Fail.Data(ErrorIds.SafeTensorsInvalidHeader, $"The safetensors header is not valid: {why}.");

    public static byte[] Serialize(IReadOnlyList<SafeTensorsEntry> entries, IReadOnlyList<KeyValuePair<string,
        string>>? metadata)
    {
        var sb = new StringBuilder(64 + entries.Count * 96).Append('{');
        bool first = true;
        void Comma() { if (!first) sb.Append(','); first = false; }
        if (metadata is not null)
        {
            Comma();
            String(sb, SafeTensorsFormat.MetadataKey).Append(":{");
            for (int i = 0; i < metadata.Count; i++)
            {
                if (i > 0) sb.Append(',');
                String(sb, metadata[i].Key).Append(':');
                String(sb, metadata[i].Value);
            }
            sb.Append('}');
        }
        foreach (var e in entries)
        {
            Comma();
            String(sb, e.Name).Append(":{\"dtype\":");
            String(sb, e.DType.Code).Append(",\"shape\":[").AppendJoin(',', e.Shape).Append("],\"data_offsets\":[")
                .Append(e.Begin).Append(',').Append(e.End).Append("]}");
        }
        return Encoding.UTF8.GetBytes(sb.Append('}').ToString());
    }

    private static StringBuilder String(StringBuilder sb, string s) => JsonText.AppendString(sb, s,
        escapeNonAscii: false);
}
