using System.Text;
using System.Text.Json;

namespace TorchSerial.Provenance;

/// <summary>How a bundle says who signed it (model-signing.md §1.2).</summary>
public enum SigningMethod
{
    /// <summary>A public key: <c>verificationMaterial.publicKey</c> (a hint, or before 1.1.0 the PEM itself).</summary>
    Key,
    /// <summary>An X.509 chain, leaf first: <c>verificationMaterial.x509CertificateChain</c>.</summary>
    Certificate,
    /// <summary>Sigstore keyless: a Fulcio certificate with transparency-log entries.</summary>
    Sigstore,
}

/// <summary>
/// An OMS signature file (<c>model.sig</c>): a Sigstore bundle v0.3 wrapping a DSSE envelope whose payload is an
/// in-toto statement (model-signing.md §1.1–1.3). Read and checked for shape once, immutable after; anything that
/// does not fit is a <see cref="FormatException"/> whose message is the reason a report gives.
/// </summary>
internal sealed class SignatureBundle
{
    public const string MediaType = "application/vnd.dev.sigstore.bundle.v0.3+json";
    public const string PayloadType = "application/vnd.in-toto+json";
    private const int MaxBytes = 16 << 20;

    private SignatureBundle(SigningMethod method, byte[] payload, byte[] signature, string? keyHint,
        IReadOnlyList<byte[]> certificates)
    {
        Method = method;
        Payload = payload;
        Signature = signature;
        KeyHint = keyHint;
        Certificates = certificates;
    }

    public SigningMethod Method { get; }

    /// <summary>The DSSE payload: the in-toto statement's JSON bytes.</summary>
    public byte[] Payload { get; }

    /// <summary>The DER ECDSA signature of <c>signatures[0]</c> (the only one model_signing checks).</summary>
    public byte[] Signature { get; }

    /// <summary>The key method's hint: lowercase hex SHA-256 of the signer's public key PEM; null in legacy
    /// bundles.</summary>
    public string? KeyHint { get; }

    /// <summary>DER certificates, leaf first (certificate and Sigstore methods).</summary>
    public IReadOnlyList<byte[]> Certificates { get; }

    /// <summary>The bytes the signature covers: DSSE v1's pre-authentication encoding of the payload.</summary>
    public byte[] SignedBytes() => new Unsigned(Payload).SignedBytes();

    /// <summary>
    /// What model_signing 0.2 signed instead (model-signing.md §1.3): <c>DSSEV1 n type len repr</c>, the payload
    /// written as Python's <c>bytes.__repr__</c>; the verifier still accepts it for old signatures, and so does this.
    /// </summary>
    public byte[] LegacySignedBytes()
    {
        var text = new StringBuilder($"DSSEV1 {Encoding.UTF8.GetByteCount(PayloadType)} {PayloadType} " +
            $"{Payload.Length} ");
        // Python quotes with ' unless the bytes hold a ' and no ".
        char quote = Array.IndexOf(Payload, (byte)'\'') >= 0 && Array.IndexOf(Payload, (byte)'"') < 0 ? '"' : '\'';
        text.Append('b').Append(quote);
        foreach (byte b in Payload)
            text.Append(b switch
            {
                (byte)'\\' => "\\\\",
                (byte)'\t' => "\\t",
                (byte)'\n' => "\\n",
                (byte)'\r' => "\\r",
                _ when b == quote => "\\" + quote,
                >= 0x20 and < 0x7f => ((char)b).ToString(),
                _ => $"\\x{b:x2}",
            });
        text.Append(quote);
        return Encoding.ASCII.GetBytes(text.ToString());
    }

    /// <summary>A payload about to be signed: what the signer and the verifier both encode.</summary>
    internal readonly struct Unsigned(byte[] payload)
    {
        public byte[] SignedBytes()
        {
            var head = Encoding.ASCII.GetBytes($"DSSEv1 {Encoding.UTF8.GetByteCount(PayloadType)} {PayloadType} " +
                $"{payload.Length} ");
            return [.. head, .. payload];
        }
    }

    public static SignatureBundle Read(byte[] json)
    {
        if (json.Length > MaxBytes) throw new FormatException($"the signature file is over {MaxBytes >> 20} MiB");
        JsonDocument doc;
        try { doc = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 32 }); }
        catch (JsonException ex) { throw new FormatException($"the signature file is not JSON ({ex.Message})"); }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new FormatException("the signature file is not a bundle");
            string? media = Text(root, "mediaType");
            if (media != MediaType)
                throw new FormatException($"its mediaType is '{media}', not the Sigstore bundle v0.3 type");
            var envelope = Member(root, "dsseEnvelope") ?? throw new FormatException("it has no DSSE envelope");
            string? type = Text(envelope, "payloadType");
            if (type != PayloadType) throw new FormatException($"its payloadType is '{type}', not {PayloadType}");
            byte[] payload = Base64(envelope, "payload");
            if (Member(envelope, "signatures") is not { ValueKind: JsonValueKind.Array } signatures
                || signatures.GetArrayLength() == 0)
                throw new FormatException("its DSSE envelope has no signature");
            byte[] signature = Base64(signatures[0], "sig");
            var material = Member(root, "verificationMaterial")
                ?? throw new FormatException("it has no verificationMaterial");
            if (Member(material, "publicKey") is { } key)
                return new SignatureBundle(SigningMethod.Key, payload, signature, Text(key, "hint")?.ToLowerInvariant(),
                    Array.Empty<byte[]>());
            if (Member(material, "x509CertificateChain") is { } chain
                && Member(chain, "certificates") is { ValueKind: JsonValueKind.Array } list)
                return new SignatureBundle(SigningMethod.Certificate, payload, signature, null,
                    list.EnumerateArray().Select(c => Base64(c, "rawBytes")).ToList());
            if (Member(material, "certificate") is { } leaf)
                return new SignatureBundle(SigningMethod.Sigstore, payload, signature, null,
                    new[] { Base64(leaf, "rawBytes") });
            throw new FormatException("its verificationMaterial has no public key, certificate chain or certificate");
        }
    }

    private static JsonElement? Member(JsonElement e, string name)
        => e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) ? v : null;

    private static string? Text(JsonElement e, string name)
        => Member(e, name) is { ValueKind: JsonValueKind.String } v ? v.GetString() : null;

    private static byte[] Base64(JsonElement e, string name)
    {
        try { return Convert.FromBase64String(Text(e, name) ?? throw new FormatException($"it has no '{name}'")); }
        catch (FormatException ex) when (!ex.Message.StartsWith("it has", StringComparison.Ordinal))
        {
            throw new FormatException($"its '{name}' is not base64");
        }
    }
}
