using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace TorchSerial.Provenance;

/// <summary>
/// An RFC 3161 time-stamp response, checked against a trusted root's timestamp authorities: the TSTInfo's message
/// imprint is the hash of the stamped bytes (a keyless bundle's DSSE signature), the signer's signed attributes carry
/// the TSTInfo's digest, their DER (as a SET) is signed by a certificate that chains to an authority of the root at
/// the stamped time, and may stamp time. Read with System.Formats.Asn1 (RFC 3161 §2.4.2, RFC 5652 §5).
/// </summary>
internal static class TimestampToken
{
    private const string SignedDataOid = "1.2.840.113549.1.7.2";
    private const string TstInfoOid = "1.2.840.113549.1.9.16.1.4";
    private const string MessageDigestOid = "1.2.840.113549.1.9.4";
    private const string ContentTypeOid = "1.2.840.113549.1.9.3";
    private const string TimeStampingOid = "1.3.6.1.5.5.7.3.8";

    /// <summary>Null when the response stamps <paramref name="stamped"/> and holds under <paramref name="root"/>;
    /// else why not. <paramref name="time"/> receives the stamped time.</summary>
    public static string? Check(byte[] response, byte[] stamped, SigstoreTrustedRoot root, out DateTimeOffset time)
    {
        time = default;
        var resp = new AsnReader(response, AsnEncodingRules.BER).ReadSequence();
        var status = resp.ReadSequence();
        if (!status.TryReadInt32(out int granted) || granted is not (0 or 1))
            return "its RFC 3161 timestamp was not granted";
        var contentInfo = resp.ReadSequence();
        if (contentInfo.ReadObjectIdentifier() != SignedDataOid) return "its RFC 3161 timestamp is not signed data";
        var signedData = contentInfo.ReadSequence(new Asn1Tag(TagClass.ContextSpecific, 0)).ReadSequence();
        signedData.ReadInteger();
        signedData.ReadSetOf();
        var encapsulated = signedData.ReadSequence();
        if (encapsulated.ReadObjectIdentifier() != TstInfoOid) return "its RFC 3161 timestamp holds no TSTInfo";
        byte[] tstInfo = encapsulated.ReadSequence(new Asn1Tag(TagClass.ContextSpecific, 0)).ReadOctetString();
        var embedded = new List<X509Certificate2>();
        if (signedData.PeekTag() == new Asn1Tag(TagClass.ContextSpecific, 0, isConstructed: true))
        {
            var certificates = signedData.ReadSetOf(new Asn1Tag(TagClass.ContextSpecific, 0));
            while (certificates.HasData)
                embedded.Add(SignatureVerifier.LoadCertificate(certificates.ReadEncodedValue().ToArray()));
        }
        if (signedData.PeekTag() == new Asn1Tag(TagClass.ContextSpecific, 1, isConstructed: true))
            signedData.ReadEncodedValue(); // CRLs
        var signerInfo = signedData.ReadSetOf().ReadSequence();

        // The TSTInfo: what was stamped, and when.
        var info = new AsnReader(tstInfo, AsnEncodingRules.DER).ReadSequence();
        info.ReadInteger();
        info.ReadObjectIdentifier();
        var imprint = info.ReadSequence();
        var imprintHash = Hash(imprint.ReadSequence().ReadObjectIdentifier());
        if (imprintHash is null) return "its RFC 3161 timestamp uses an unknown hash";
        if (!imprint.ReadOctetString().AsSpan().SequenceEqual(Digest(imprintHash.Value, stamped)))
            return "its RFC 3161 timestamp stamps other bytes than this signature";
        info.ReadInteger();
        time = info.ReadGeneralizedTime();

        // The signer: its signed attributes name the TSTInfo, and their DER as a SET is what it signed.
        signerInfo.ReadInteger();
        signerInfo.ReadEncodedValue(); // issuerAndSerialNumber or subjectKeyIdentifier
        var digest = Hash(signerInfo.ReadSequence().ReadObjectIdentifier());
        var attributesTag = new Asn1Tag(TagClass.ContextSpecific, 0, isConstructed: true);
        if (digest is null || signerInfo.PeekTag() != attributesTag)
            return "its RFC 3161 timestamp's signer has no signed attributes";
        byte[] attributes = signerInfo.PeekEncodedValue().ToArray();
        var attributeSet = signerInfo.ReadSetOf(attributesTag);
        bool digestMatches = false, isTstInfo = false;
        while (attributeSet.HasData)
        {
            var attribute = attributeSet.ReadSequence();
            string oid = attribute.ReadObjectIdentifier();
            var values = attribute.ReadSetOf();
            if (oid == MessageDigestOid)
                digestMatches = values.ReadOctetString().AsSpan().SequenceEqual(Digest(digest.Value, tstInfo));
            else if (oid == ContentTypeOid) isTstInfo = values.ReadObjectIdentifier() == TstInfoOid;
        }
        if (!digestMatches || !isTstInfo) return "its RFC 3161 timestamp's signed attributes do not name its TSTInfo";
        attributes[0] = 0x31; // signed as a SET OF, not with the [0] IMPLICIT tag it travels under
        signerInfo.ReadSequence(); // signatureAlgorithm: the key and the digest algorithm decide
        byte[] signature = signerInfo.ReadOctetString();

        var stampedAt = time;
        foreach (var authority in root.TimestampAuthorities.Where(a => a.ValidAt(stampedAt)))
        {
            // The signer: a certificate the token carries, or the authority's own leaf.
            var candidates = embedded.Append(SignatureVerifier.LoadCertificate(authority.Chain[0]));
            if (candidates.Any(c => Verifies(c, attributes, signature, digest.Value)
                    && authority.IssuerOf(c, stampedAt, TimeStampingOid, embedded) is not null))
                return null;
        }
        return "its RFC 3161 timestamp is not signed by a timestamp authority of the trusted root";
    }

    private static bool Verifies(X509Certificate2 signer, byte[] data, byte[] signature, HashAlgorithmName hash)
    {
        try
        {
            using var ec = signer.GetECDsaPublicKey();
            if (ec is not null)
                return ec.VerifyData(data, signature, hash, DSASignatureFormat.Rfc3279DerSequence);
            using var rsa = signer.GetRSAPublicKey();
            return rsa is not null && rsa.VerifyData(data, signature, hash, RSASignaturePadding.Pkcs1);
        }
        catch (CryptographicException) { return false; }
    }

    private static HashAlgorithmName? Hash(string oid) => oid switch
    {
        "2.16.840.1.101.3.4.2.1" => HashAlgorithmName.SHA256,
        "2.16.840.1.101.3.4.2.2" => HashAlgorithmName.SHA384,
        "2.16.840.1.101.3.4.2.3" => HashAlgorithmName.SHA512,
        _ => null,
    };

    private static byte[] Digest(HashAlgorithmName hash, byte[] data)
        => hash == HashAlgorithmName.SHA384 ? SHA384.HashData(data)
            : hash == HashAlgorithmName.SHA512 ? SHA512.HashData(data) : SHA256.HashData(data);
}
