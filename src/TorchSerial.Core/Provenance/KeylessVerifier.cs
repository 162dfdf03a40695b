using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;

namespace TorchSerial.Provenance;

/// <summary>
/// The offline checks of a keyless (Sigstore) signature, as sigstore-python's verifier makes them
/// (model-signing.md §1.10a), against a trusted root and no network:
/// <list type="number">
/// <item>the Rekor entry binds the envelope: its body (kind dsse 0.0.1) names the payload's SHA-256, the envelope's
/// signature and the signing certificate;</item>
/// <item>its signed entry timestamp (SET) is the log's signature over the entry;</item>
/// <item>its inclusion proof leads from the entry to the root hash of a checkpoint the log signed;</item>
/// <item>the certificate chains to a Fulcio authority of the root at the time the log integrated the entry, and may
/// sign code;</item>
/// <item>its embedded SCT is a certificate-transparency log's signature over the precertificate;</item>
/// <item>its RFC 3161 timestamps, where it carries any, stamp this signature under a timestamp authority of the
/// root, inside the certificate's validity (<see cref="TimestampToken"/>);</item>
/// <item>its identity (the subject alternative name) and OIDC issuer are the ones asked for.</item>
/// </list>
/// The DSSE signature itself is then checked with the certificate's key by <see cref="SignatureVerifier"/>. Each
/// method returns null when the check holds, else the reason it does not.
/// </summary>
internal static class KeylessVerifier
{
    private const string SctOid = "1.3.6.1.4.1.11129.2.4.2";
    private const string IssuerOid = "1.3.6.1.4.1.57264.1.8";
    private const string LegacyIssuerOid = "1.3.6.1.4.1.57264.1.1";
    private const string SubjectAltNameOid = "2.5.29.17";
    private const string CodeSigningOid = "1.3.6.1.5.5.7.3.3";

    /// <summary>All the checks; <paramref name="signer"/> receives the certificate's identity.</summary>
    public static string? Check(byte[] bundleJson, SignatureBundle bundle, string identity, string issuer,
        SigstoreTrustedRoot root, out string? signer)
    {
        signer = null;
        using var doc = JsonDocument.Parse(bundleJson);
        var material = doc.RootElement.GetProperty("verificationMaterial");
        if (!material.TryGetProperty("tlogEntries", out var entries) || entries.GetArrayLength() == 0)
            return "it has no transparency-log entry, so nothing vouches for when it was signed";
        var entry = TlogEntry.Read(entries[0]);
        using var leaf = SignatureVerifier.LoadCertificate(bundle.Certificates[0]);
        signer = Identity(leaf);

        var log = root.TransparencyLogs.FirstOrDefault(l => l.KeyId.AsSpan().SequenceEqual(entry.LogKeyId));
        if (log is null) return $"its Rekor entry is in a log the trusted root does not name " +
            $"({Convert.ToBase64String(entry.LogKeyId)})";
        if (log.KeyDetails != "PKIX_ECDSA_P256_SHA_256")
            return $"its Rekor log signs with {log.KeyDetails}, which is not verified here";
        var time = DateTimeOffset.FromUnixTimeSeconds(entry.IntegratedTime);
        if (!log.ValidAt(time)) return $"the Rekor log's key was not valid at {time:u}";
        using var logKey = EcKey(log.PublicKey);

        return BodyProblem(entry, bundle, leaf)
            ?? SetProblem(entry, logKey)
            ?? InclusionProblem(entry, logKey)
            ?? TimestampProblem(material, bundle, leaf, root)
            ?? ChainProblem(leaf, root, time, out var issuerCertificate)
            ?? SctProblem(leaf, issuerCertificate!, root)
            ?? IdentityProblem(leaf, identity, issuer, signer);
    }

    /// <summary>Each RFC 3161 timestamp the bundle carries (model_signing 1.1 adds one) stamps this signature, holds
    /// under a timestamp authority of the root, and falls inside the certificate's validity. As sigstore-python, a
    /// bundle with timestamps needs a root that names an authority.</summary>
    private static string? TimestampProblem(JsonElement material, SignatureBundle bundle, X509Certificate2 leaf,
        SigstoreTrustedRoot root)
    {
        if (!material.TryGetProperty("timestampVerificationData", out var data)
            || !data.TryGetProperty("rfc3161Timestamps", out var stamps) || stamps.GetArrayLength() == 0)
            return null;
        if (root.TimestampAuthorities.Count == 0)
            return "it carries RFC 3161 timestamps, but the trusted root names no timestamp authority";
        foreach (var stamp in stamps.EnumerateArray())
        {
            string? problem = TimestampToken.Check(stamp.GetProperty("signedTimestamp").GetBytesFromBase64(),
                bundle.Signature, root, out var stamped);
            if (problem is not null) return problem;
            if (stamped < leaf.NotBefore.ToUniversalTime() || stamped > leaf.NotAfter.ToUniversalTime())
                return $"its RFC 3161 timestamp ({stamped:u}) is outside its certificate's validity";
        }
        return null;
    }

    /// <summary>The Rekor entry's body names this envelope: its payload hash, its signature, its certificate.</summary>
    private static string? BodyProblem(TlogEntry entry, SignatureBundle bundle, X509Certificate2 leaf)
    {
        using var body = JsonDocument.Parse(entry.Body);
        var b = body.RootElement;
        if (b.GetProperty("kind").GetString() != "dsse")
            return $"its Rekor entry is of kind '{b.GetProperty("kind").GetString()}'; dsse entries are verified here";
        var spec = b.GetProperty("spec");
        var payloadHash = spec.GetProperty("payloadHash");
        if (payloadHash.GetProperty("algorithm").GetString() != "sha256"
            || !string.Equals(payloadHash.GetProperty("value").GetString(),
                Convert.ToHexString(SHA256.HashData(bundle.Payload)), StringComparison.OrdinalIgnoreCase))
            return "its Rekor entry was made for another payload";
        var signature = spec.GetProperty("signatures")[0];
        if (!signature.GetProperty("signature").GetBytesFromBase64().AsSpan().SequenceEqual(bundle.Signature))
            return "its Rekor entry was made for another signature";
        string pem = Encoding.ASCII.GetString(signature.GetProperty("verifier").GetBytesFromBase64());
        using var logged = X509Certificate2.CreateFromPem(pem);
        return logged.RawData.AsSpan().SequenceEqual(leaf.RawData) ? null
            : "its Rekor entry was made with another certificate";
    }

    /// <summary>The SET: the log's signature over the RFC 8785 JSON of body, integratedTime, logID (hex) and the
    /// entry's global logIndex.</summary>
    private static string? SetProblem(TlogEntry entry, ECDsa logKey)
    {
        if (entry.SignedEntryTimestamp is null) return null; // bundle v0.3 may carry a proof alone; it is checked
        string canonical = "{\"body\":\"" + Convert.ToBase64String(entry.Body) + "\",\"integratedTime\":" +
            entry.IntegratedTime + ",\"logID\":\"" + Convert.ToHexString(entry.LogKeyId).ToLowerInvariant() +
            "\",\"logIndex\":" + entry.LogIndex + "}";
        return logKey.VerifyData(Encoding.UTF8.GetBytes(canonical), entry.SignedEntryTimestamp,
            HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence) ? null
            : "its Rekor entry's signed entry timestamp is not the log's signature";
    }

    /// <summary>The RFC 6962 audit path from the entry's leaf hash to the root hash, and the checkpoint (a signed
    /// note: origin, size, root) the log signed for that root.</summary>
    private static string? InclusionProblem(TlogEntry entry, ECDsa logKey)
    {
        if (entry.RootHash is null) return "its Rekor entry has no inclusion proof";
        byte[] hash = SHA256.HashData([0x00, .. entry.Body]);
        long index = entry.ProofIndex, last = entry.TreeSize - 1;
        if (index < 0 || index > last) return "its inclusion proof's index is outside the tree";
        foreach (var sibling in entry.Hashes)
        {
            if (last == 0) return "its inclusion proof is longer than the tree is deep";
            if ((index & 1) == 1 || index == last)
            {
                hash = SHA256.HashData([0x01, .. sibling, .. hash]);
                while ((index & 1) == 0 && index != 0) { index >>= 1; last >>= 1; }
            }
            else hash = SHA256.HashData([0x01, .. hash, .. sibling]);
            index >>= 1;
            last >>= 1;
        }
        if (last != 0 || !hash.AsSpan().SequenceEqual(entry.RootHash))
            return "its inclusion proof does not lead to the log's root hash";
        if (entry.Checkpoint is not { } note) return "its inclusion proof has no signed checkpoint";
        int blank = note.IndexOf("\n\n", StringComparison.Ordinal);
        if (blank < 0) return "its checkpoint is not a signed note";
        string text = note[..(blank + 1)];
        var lines = text.Split('\n');
        if (lines.Length < 3 || lines[1] != entry.TreeSize.ToString(System.Globalization.CultureInfo.InvariantCulture)
            || lines[2] != Convert.ToBase64String(entry.RootHash))
            return "its checkpoint is for another tree than its inclusion proof";
        foreach (var line in note[(blank + 2)..].Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            // "— <name> <base64(4-byte key hint ‖ signature)>"
            int space = line.LastIndexOf(' ');
            if (!line.StartsWith('\u2014') || space < 0) continue;
            byte[] signed;
            try { signed = Convert.FromBase64String(line[(space + 1)..]); }
            catch (FormatException) { continue; }
            if (signed.Length > 4 && logKey.VerifyData(Encoding.UTF8.GetBytes(text), signed.AsSpan(4),
                    HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence))
                return null;
        }
        return "its checkpoint is not signed by the Rekor log";
    }

    /// <summary>The certificate chains to a Fulcio authority that was issuing at the time the log integrated the
    /// entry (the leaf lives ten minutes; that time must fall inside it), and may sign code.</summary>
    private static string? ChainProblem(X509Certificate2 leaf, SigstoreTrustedRoot root, DateTimeOffset time,
        out X509Certificate2? issuer)
    {
        issuer = null;
        if (time < leaf.NotBefore.ToUniversalTime() || time > leaf.NotAfter.ToUniversalTime())
            return $"the log integrated it at {time:u}, outside its certificate's validity " +
                $"({leaf.NotBefore.ToUniversalTime():u} to {leaf.NotAfter.ToUniversalTime():u})";
        issuer = root.Authorities.Where(a => a.ValidAt(time))
            .Select(a => a.IssuerOf(leaf, time, CodeSigningOid)).FirstOrDefault(i => i is not null);
        return issuer is not null ? null
            : "its certificate does not chain to a Fulcio authority of the trusted root at the time it was logged";
    }

    /// <summary>An embedded SCT whose log the root names, signed over the RFC 6962 precertificate entry: the issuer's
    /// key hash and the TBS certificate without the SCT extension.</summary>
    private static string? SctProblem(X509Certificate2 leaf, X509Certificate2 issuer, SigstoreTrustedRoot root)
    {
        var extension = leaf.Extensions.Cast<X509Extension>().FirstOrDefault(e => e.Oid?.Value == SctOid);
        if (extension is null) return "its certificate carries no signed certificate timestamp";
        byte[] list = new AsnReader(extension.RawData, AsnEncodingRules.DER).ReadOctetString();
        byte[] tbs = TbsWithout(leaf.RawData, SctOid);
        byte[] issuerKeyHash = SHA256.HashData(issuer.PublicKey.ExportSubjectPublicKeyInfo());
        int at = 2;
        while (at + 2 <= list.Length)
        {
            int length = list[at] << 8 | list[at + 1];
            var sct = list.AsSpan(at + 2, Math.Min(length, list.Length - at - 2));
            at += 2 + length;
            if (sct.Length < 47 || sct[0] != 0) continue;
            byte[] logId = sct.Slice(1, 32).ToArray();
            var timestamp = sct.Slice(33, 8);
            int extLength = sct[41] << 8 | sct[42];
            var extensions = sct.Slice(43, extLength);
            var rest = sct[(43 + extLength)..];
            int sigLength = rest[2] << 8 | rest[3];
            var signature = rest.Slice(4, sigLength);
            var log = root.CertificateLogs.FirstOrDefault(l => l.KeyId.AsSpan().SequenceEqual(logId));
            if (log is null) continue;
            var signed = new List<byte> { 0, 0 }; // v1, certificate_timestamp
            signed.AddRange(timestamp.ToArray());
            signed.AddRange([0, 1]); // precert_entry
            signed.AddRange(issuerKeyHash);
            signed.AddRange([(byte)(tbs.Length >> 16), (byte)(tbs.Length >> 8), (byte)tbs.Length]);
            signed.AddRange(tbs);
            signed.AddRange([(byte)(extLength >> 8), (byte)extLength]);
            signed.AddRange(extensions.ToArray());
            using var key = EcKey(log.PublicKey);
            if (key.VerifyData(signed.ToArray(), signature, HashAlgorithmName.SHA256,
                    DSASignatureFormat.Rfc3279DerSequence))
                return null;
        }
        return "its certificate's signed certificate timestamp is not from a certificate-transparency log of the " +
            "trusted root";
    }

    private static string? IdentityProblem(X509Certificate2 leaf, string identity, string issuer, string? signer)
    {
        if (signer != identity) return $"it was signed by '{signer}', not by '{identity}'";
        string? actual = OidcIssuer(leaf);
        return actual == issuer ? null : $"its identity was vouched for by '{actual}', not by '{issuer}'";
    }

    /// <summary>The certificate's identity: its first subject alternative name that is an e-mail address or a
    /// URI.</summary>
    internal static string? Identity(X509Certificate2 certificate)
    {
        var extension = certificate.Extensions.Cast<X509Extension>()
            .FirstOrDefault(e => e.Oid?.Value == SubjectAltNameOid);
        if (extension is null) return null;
        var names = new AsnReader(extension.RawData, AsnEncodingRules.DER).ReadSequence();
        while (names.HasData)
        {
            var tag = names.PeekTag();
            if (tag.TagClass == TagClass.ContextSpecific && tag.TagValue is 1 or 6)
                return names.ReadCharacterString(UniversalTagNumber.IA5String, tag);
            names.ReadEncodedValue();
        }
        return null;
    }

    /// <summary>The OIDC issuer Fulcio recorded: the DER UTF8String extension, else the legacy raw one.</summary>
    internal static string? OidcIssuer(X509Certificate2 certificate)
    {
        var extensions = certificate.Extensions.Cast<X509Extension>().ToList();
        if (extensions.FirstOrDefault(e => e.Oid?.Value == IssuerOid) is { } issuer)
            return new AsnReader(issuer.RawData, AsnEncodingRules.DER).ReadCharacterString(
                UniversalTagNumber.UTF8String);
        return extensions.FirstOrDefault(e => e.Oid?.Value == LegacyIssuerOid) is { } legacy
            ? Encoding.UTF8.GetString(legacy.RawData) : null;
    }

    /// <summary>The DER of a certificate's TBSCertificate with one extension taken out (RFC 6962's
    /// precertificate).</summary>
    private static byte[] TbsWithout(byte[] certificate, string oid)
    {
        var tbs = new AsnReader(certificate, AsnEncodingRules.DER).ReadSequence().ReadSequence();
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            var extensionsTag = new Asn1Tag(TagClass.ContextSpecific, 3, isConstructed: true);
            while (tbs.HasData)
            {
                if (tbs.PeekTag() != extensionsTag) { writer.WriteEncodedValue(tbs.ReadEncodedValue().Span); continue; }
                var extensions = tbs.ReadSequence(extensionsTag).ReadSequence();
                using (writer.PushSequence(extensionsTag))
                using (writer.PushSequence())
                {
                    while (extensions.HasData)
                    {
                        var encoded = extensions.ReadEncodedValue();
                        var one = new AsnReader(encoded, AsnEncodingRules.DER).ReadSequence();
                        if (one.ReadObjectIdentifier() != oid) writer.WriteEncodedValue(encoded.Span);
                    }
                }
            }
        }
        return writer.Encode();
    }

    private static ECDsa EcKey(byte[] subjectPublicKeyInfo)
    {
        var key = ECDsa.Create();
        key.ImportSubjectPublicKeyInfo(subjectPublicKeyInfo, out _);
        return key;
    }

    /// <summary>One Rekor v1 entry of a bundle, as the protobuf JSON mapping writes it (64-bit numbers as
    /// strings).</summary>
    private sealed record TlogEntry(long LogIndex, byte[] LogKeyId, long IntegratedTime, byte[] Body,
        byte[]? SignedEntryTimestamp, long ProofIndex, long TreeSize, byte[]? RootHash, IReadOnlyList<byte[]> Hashes,
        string? Checkpoint)
    {
        public static TlogEntry Read(JsonElement e)
        {
            static long Number(JsonElement v) => v.ValueKind == JsonValueKind.String
                ? long.Parse(v.GetString()!, System.Globalization.CultureInfo.InvariantCulture) : v.GetInt64();
            var proof = e.TryGetProperty("inclusionProof", out var p) ? p : (JsonElement?)null;
            return new TlogEntry(Number(e.GetProperty("logIndex")),
                e.GetProperty("logId").GetProperty("keyId").GetBytesFromBase64(),
                Number(e.GetProperty("integratedTime")), e.GetProperty("canonicalizedBody").GetBytesFromBase64(),
                e.TryGetProperty("inclusionPromise", out var promise)
                    ? promise.GetProperty("signedEntryTimestamp").GetBytesFromBase64() : null,
                proof is { } a ? Number(a.GetProperty("logIndex")) : -1,
                proof is { } b ? Number(b.GetProperty("treeSize")) : 0,
                proof?.GetProperty("rootHash").GetBytesFromBase64(),
                proof is { } c ? c.GetProperty("hashes").EnumerateArray().Select(h => h.GetBytesFromBase64()).ToList()
                    : [],
                proof is { } d && d.TryGetProperty("checkpoint", out var cp)
                    ? cp.GetProperty("envelope").GetString() : null);
        }
    }
}
