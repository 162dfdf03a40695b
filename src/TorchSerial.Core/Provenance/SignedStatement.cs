using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;

namespace TorchSerial.Provenance;

/// <summary>One signed resource: a file (or, for the shards method, <c>path:start:end</c>) and its digest.</summary>
public sealed record SignedResource(string Name, string Algorithm, string Digest);

/// <summary>
/// The in-toto statement an OMS signature signs (model-signing.md §1.4–1.8): the model's root digest as its one
/// subject, and a predicate of type <c>https://model_signing/signature/v1.0</c> with the serialization used and one
/// digest per resource. Parsing checks that the root digest is SHA-256 over the resources' raw digests, in the order
/// listed, as model_signing's verifier does.
/// </summary>
internal sealed record SignedStatement
{
    public const string StatementType = "https://in-toto.io/Statement/v1";
    public const string PredicateType = "https://model_signing/signature/v1.0";

    /// <summary>model_signing 0.2's predicate: one subject a file, no root digest (model-signing.md §1.4).</summary>
    public const string LegacyPredicateType = "https://model_signing/Digests/v0.1";

    /// <summary>The predicate type the statement has.</summary>
    public string Type { get; init; } = PredicateType;

    public required string Method { get; init; }
    public required string HashType { get; init; }
    public long ShardSize { get; init; }
    public bool AllowSymlinks { get; init; }
    public required IReadOnlyList<string> IgnorePaths { get; init; }
    public required IReadOnlyList<SignedResource> Resources { get; init; }

    public static SignedStatement Read(byte[] payload)
    {
        // A member of the wrong kind (a subject that is a string, a predicate that is a list) makes JsonElement throw
        // InvalidOperationException: the payload's fault, so a reason, not an exception.
        try { return ReadChecked(payload); }
        catch (InvalidOperationException) { throw new FormatException("the statement's fields are not of the " +
            "kinds an in-toto statement has"); }
    }

    private static SignedStatement ReadChecked(byte[] payload)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(payload, new JsonDocumentOptions { MaxDepth = 32 }); }
        catch (JsonException ex) { throw new FormatException($"the signed payload is not JSON ({ex.Message})"); }
        using (doc)
        {
            var root = doc.RootElement;
            if (Text(root, "_type") != StatementType)
                throw new FormatException($"the payload is not an in-toto statement v1 ({Text(root, "_type")})");
            string? type = Text(root, "predicateType");
            if (type == LegacyPredicateType) return Legacy(root);
            if (type != PredicateType)
                throw new FormatException($"its predicate type is '{type}', not {PredicateType}");
            if (!root.TryGetProperty("subject", out var subjects) || subjects.ValueKind != JsonValueKind.Array
                || subjects.GetArrayLength() != 1)
                throw new FormatException("the statement must have exactly one subject");
            string rootDigest = subjects[0].TryGetProperty("digest", out var d) ? Text(d, "sha256") ?? "" : "";
            if (!root.TryGetProperty("predicate", out var predicate)
                || !predicate.TryGetProperty("serialization", out var serialization)
                || !predicate.TryGetProperty("resources", out var resources)
                || resources.ValueKind != JsonValueKind.Array)
                throw new FormatException("its predicate has no serialization or resources");
            var list = resources.EnumerateArray().Select(r => new SignedResource(Text(r, "name") ?? "",
                Text(r, "algorithm") ?? "", (Text(r, "digest") ?? "").ToLowerInvariant())).ToList();
            string computed = RootDigest(list);
            if (!string.Equals(computed, rootDigest, StringComparison.OrdinalIgnoreCase))
                throw new FormatException($"the manifest is inconsistent: its resources' root digest is {computed}, " +
                    $"but the subject says {rootDigest}");
            var ignores = new List<string>();
            if (serialization.TryGetProperty("ignore_paths", out var ip) && ip.ValueKind == JsonValueKind.Array)
                ignores.AddRange(ip.EnumerateArray().Where(p => p.ValueKind == JsonValueKind.String)
                    .Select(p => p.GetString()!));
            return new SignedStatement
            {
                Method = Text(serialization, "method") ?? "",
                HashType = Text(serialization, "hash_type") ?? "",
                // A protobuf Struct carries numbers as doubles ("shard_size": 8.0).
                ShardSize = serialization.TryGetProperty("shard_size", out var s) && s.ValueKind == JsonValueKind.Number
                    ? (long)s.GetDouble() : 0,
                AllowSymlinks = serialization.TryGetProperty("allow_symlinks", out var a)
                    && a.ValueKind == JsonValueKind.True,
                IgnorePaths = ignores,
                Resources = list,
            };
        }
    }

    /// <summary>A 0.2 statement: each subject is a file and its SHA-256 (annotated <c>file-sha256</c>).</summary>
    private static SignedStatement Legacy(JsonElement root)
    {
        if (!root.TryGetProperty("subject", out var subjects) || subjects.ValueKind != JsonValueKind.Array)
            throw new FormatException("the statement has no subjects");
        var list = subjects.EnumerateArray().Select(r => new SignedResource(Text(r, "name") ?? "", "sha256",
            (r.TryGetProperty("digest", out var d) ? Text(d, "sha256") ?? "" : "").ToLowerInvariant())).ToList();
        return new SignedStatement
        {
            Type = LegacyPredicateType, Method = "files", HashType = "sha256", IgnorePaths = Array.Empty<string>(),
            Resources = list,
        };
    }

    /// <summary>SHA-256 over the raw digests of the resources, in the order listed (always SHA-256).</summary>
    public static string RootDigest(IEnumerable<SignedResource> resources)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var r in resources)
        {
            try { sha.AppendData(Convert.FromHexString(r.Digest)); }
            catch (FormatException) { throw new FormatException($"the digest of '{r.Name}' is not hex"); }
        }
        return Convert.ToHexString(sha.GetHashAndReset()).ToLower(CultureInfo.InvariantCulture);
    }

    private static string? Text(JsonElement e, string name)
        => e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v)
            && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}
