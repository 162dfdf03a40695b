using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;

namespace TorchSerial.Provenance;

/// <summary>A log a trusted root names: a Rekor transparency log or a certificate-transparency log.</summary>
internal sealed record TrustedLog(string BaseUrl, byte[] KeyId, byte[] PublicKey, string KeyDetails,
    DateTimeOffset Start, DateTimeOffset? End)
{
    public bool ValidAt(DateTimeOffset time) => time >= Start && (End is null || time <= End);
}

/// <summary>A Fulcio certificate authority: its chain, intermediate first and root last, and when it issued.</summary>
internal sealed record TrustedAuthority(string Uri, IReadOnlyList<byte[]> Chain, DateTimeOffset Start,
    DateTimeOffset? End)
{
    public bool ValidAt(DateTimeOffset time) => time >= Start && (End is null || time <= End);

    /// <summary>The certificate that issued <paramref name="leaf"/>, where the leaf chains to this authority's root
    /// at <paramref name="time"/> for <paramref name="purpose"/> (an extended key usage), through the authority's
    /// intermediates and <paramref name="extra"/>; null where it does not. No revocation is checked.</summary>
    public X509Certificate2? IssuerOf(X509Certificate2 leaf, DateTimeOffset time, string purpose,
        IEnumerable<X509Certificate2>? extra = null)
    {
        var certificates = Chain.Select(SignatureVerifier.LoadCertificate).ToList();
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.VerificationTime = time.UtcDateTime;
        chain.ChainPolicy.ApplicationPolicy.Add(new Oid(purpose));
        chain.ChainPolicy.CustomTrustStore.Add(certificates[^1]);
        foreach (var c in certificates.Take(certificates.Count - 1).Concat(extra ?? []))
            chain.ChainPolicy.ExtraStore.Add(c);
        return chain.Build(leaf) && chain.ChainElements.Count > 1 ? chain.ChainElements[1].Certificate : null;
    }
}

/// <summary>
/// A Sigstore trusted root (<c>application/vnd.dev.sigstore.trustedroot+json</c>): the Fulcio authorities whose
/// certificates keyless signers get, the Rekor logs and the certificate-transparency logs whose keys vouch for them.
/// The public-good one is embedded (TrustedRoots/README.md); a private Sigstore's is read from a file.
/// </summary>
internal sealed class SigstoreTrustedRoot
{
    public IReadOnlyList<TrustedLog> TransparencyLogs { get; private init; } = [];
    public IReadOnlyList<TrustedLog> CertificateLogs { get; private init; } = [];
    public IReadOnlyList<TrustedAuthority> Authorities { get; private init; } = [];

    /// <summary>The RFC 3161 timestamp authorities (their chains, leaf first).</summary>
    public IReadOnlyList<TrustedAuthority> TimestampAuthorities { get; private init; } = [];

    /// <summary>Sigstore's public-good instance, as sigstore-python ships it for offline use.</summary>
    public static SigstoreTrustedRoot PublicGood { get; } = Read(PublicGoodJson());

    private static byte[] PublicGoodJson()
    {
        using var stream = typeof(SigstoreTrustedRoot).Assembly
            .GetManifestResourceStream("TorchSerial.Provenance.sigstore-public-good.json")!;
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    /// <exception cref="FormatException">The JSON is not a trusted root.</exception>
    public static SigstoreTrustedRoot Read(byte[] json)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            var root = doc.RootElement;
            return new SigstoreTrustedRoot
            {
                TransparencyLogs = Logs(root, "tlogs"),
                CertificateLogs = Logs(root, "ctlogs"),
                Authorities = AuthoritiesOf(root, "certificateAuthorities"),
                TimestampAuthorities = AuthoritiesOf(root, "timestampAuthorities"),
            };
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException
            or FormatException or ArgumentException or OverflowException)
        {
            throw new FormatException($"it is not a Sigstore trusted root ({ex.Message})", ex);
        }
    }

    private static List<TrustedAuthority> AuthoritiesOf(JsonElement root, string name)
        => root.TryGetProperty(name, out var cas)
            ? cas.EnumerateArray().Select(ca => new TrustedAuthority(
                ca.TryGetProperty("uri", out var uri) ? uri.GetString() ?? "" : "",
                ca.GetProperty("certChain").GetProperty("certificates").EnumerateArray()
                    .Select(c => c.GetProperty("rawBytes").GetBytesFromBase64()).ToList(),
                Time(ca.GetProperty("validFor"), "start")!.Value,
                Time(ca.GetProperty("validFor"), "end"))).ToList()
            : [];

    private static List<TrustedLog> Logs(JsonElement root, string name)
        => root.TryGetProperty(name, out var logs)
            ? logs.EnumerateArray().Select(log =>
            {
                var key = log.GetProperty("publicKey");
                return new TrustedLog(log.GetProperty("baseUrl").GetString() ?? "",
                    log.GetProperty("logId").GetProperty("keyId").GetBytesFromBase64(),
                    key.GetProperty("rawBytes").GetBytesFromBase64(),
                    key.TryGetProperty("keyDetails", out var d) ? d.GetString() ?? "" : "",
                    Time(key.GetProperty("validFor"), "start")!.Value, Time(key.GetProperty("validFor"), "end"));
            }).ToList()
            : [];

    private static DateTimeOffset? Time(JsonElement validFor, string name)
        => validFor.TryGetProperty(name, out var t)
            ? DateTimeOffset.Parse(t.GetString()!, System.Globalization.CultureInfo.InvariantCulture)
            : null;
}
