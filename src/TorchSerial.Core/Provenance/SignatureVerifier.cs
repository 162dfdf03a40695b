using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using TorchSerial.Errors;

namespace TorchSerial.Provenance;

/// <summary>
/// Verifies an OMS model signature offline, as model_signing's verifier does (model-signing.md §1.10): the bundle's
/// shape and media type; the DSSE signature over its pre-authentication encoding with the curve's hash (P-256 SHA-256,
/// P-384 SHA-384, P-521 SHA-512), by a public key whose hint the bundle names, or by a certificate that chains to the
/// given trust anchors at its own notBefore and may sign (digitalSignature or codeSigning); the statement's type,
/// predicate and root digest; and a fresh manifest of the local files against the signed one. A signature that does
/// not hold is a report with the reason, never an exception; an unreadable file is a TorchSerialException. Keyless
/// (Sigstore) signatures are authenticated by <see cref="KeylessVerifier"/>.
/// </summary>
public static class SignatureVerifier
{
    public static SignatureReport VerifyWithKey(string modelPath, string signaturePath, string publicKeyPath,
        IEnumerable<string>? ignorePaths = null, CancellationToken ct = default,
        Action<int, int, long, long>? progress = null)
        => Verify(modelPath, signaturePath, ignorePaths, ct, progress, bundle =>
        {
            using var key = ReadKey(publicKeyPath);
            string hint = KeyHint(key);
            if (bundle.KeyHint is { } expected && expected != hint)
                return (hint, $"it was signed by another key (hint {expected}; this key's is {hint})");
            // model_signing's key verifier retries 0.2's encoding with the curve's hash.
            return Signed(key, bundle, legacyHash: null) ? (hint, null)
                : (hint, "its signature does not match this public key");
        });

    public static SignatureReport VerifyWithCertificates(string modelPath, string signaturePath,
        IReadOnlyList<string> trustAnchorPaths, IEnumerable<string>? ignorePaths = null, CancellationToken ct = default,
        Action<int, int, long, long>? progress = null)
        => Verify(modelPath, signaturePath, ignorePaths, ct, progress, bundle =>
        {
            if (bundle.Method != SigningMethod.Certificate)
                return (null, $"it is signed by the {bundle.Method.ToString().ToLowerInvariant()} method, not by a " +
                    "certificate chain");
            using var leaf = LoadCertificate(bundle.Certificates[0]);
            string? problem = ChainProblem(leaf, bundle.Certificates.Skip(1), trustAnchorPaths);
            if (problem is not null) return (leaf.Subject, problem);
            using var key = leaf.GetECDsaPublicKey();
            if (key is null) return (leaf.Subject, "its certificate's key is not an elliptic-curve key");
            // ... and its certificate verifier with SHA-256, whatever the curve.
            return Signed(key, bundle, HashAlgorithmName.SHA256) ? (leaf.Subject, null)
                : (leaf.Subject, "its signature does not match its certificate's key");
        });

    /// <summary>
    /// A keyless (Sigstore) signature, offline: the Rekor entry, its signed timestamp, inclusion proof and checkpoint,
    /// the Fulcio chain at the logged time, the SCT, and the signer's identity and OIDC issuer
    /// (<see cref="KeylessVerifier"/>), all against <paramref name="trustedRootPath"/>'s trusted root or Sigstore's
    /// public-good one; then the DSSE signature with the certificate's key.
    /// </summary>
    public static SignatureReport VerifyKeyless(string modelPath, string signaturePath, string identity, string issuer,
        string? trustedRootPath = null, IEnumerable<string>? ignorePaths = null, CancellationToken ct = default,
        Action<int, int, long, long>? progress = null)
    {
        SigstoreTrustedRoot root;
        try
        {
            root = trustedRootPath is null ? SigstoreTrustedRoot.PublicGood
                : SigstoreTrustedRoot.Read(ReadFile(trustedRootPath, "trusted root"));
        }
        catch (FormatException ex)
        {
            throw new TorchSerialException(ErrorIds.SignatureKeyInvalid, ErrorKind.InvalidData,
                $"'{trustedRootPath}' cannot be used: {ex.Message}.", ex);
        }
        return Verify(modelPath, signaturePath, ignorePaths, ct, progress, (bundle, json) =>
        {
            if (bundle.Method != SigningMethod.Sigstore)
                return (null, $"it is signed by the {bundle.Method.ToString().ToLowerInvariant()} method, not keyless");
            string? problem;
            string? signer;
            try { problem = KeylessVerifier.Check(json, bundle, identity, issuer, root, out signer); }
            catch (Exception ex) when (ex is System.Text.Json.JsonException or KeyNotFoundException
                or InvalidOperationException or FormatException or System.Formats.Asn1.AsnContentException
                or ArgumentException or IndexOutOfRangeException or OverflowException)
            {
                return (null, $"its Sigstore verification material cannot be read ({ex.Message})");
            }
            if (problem is not null) return (signer, problem);
            using var leaf = LoadCertificate(bundle.Certificates[0]);
            using var key = leaf.GetECDsaPublicKey();
            if (key is null) return (signer, "its certificate's key is not an elliptic-curve key");
            return Signed(key, bundle, HashAlgorithmName.SHA256) ? (signer, null)
                : (signer, "its signature does not match its certificate's key");
        });
    }

    private static SignatureReport Verify(string modelPath, string signaturePath, IEnumerable<string>? ignorePaths,
        CancellationToken ct, Action<int, int, long, long>? progress,
        Func<SignatureBundle, (string? Signer, string? Problem)> authenticate)
        => Verify(modelPath, signaturePath, ignorePaths, ct, progress, (bundle, _) =>
        {
            if (bundle.Method == SigningMethod.Sigstore)
                return (null, "it is a keyless (Sigstore) signature; verify it with -Identity and -Issuer");
            return authenticate(bundle);
        });

    private static SignatureReport Verify(string modelPath, string signaturePath, IEnumerable<string>? ignorePaths,
        CancellationToken ct, Action<int, int, long, long>? progress,
        Func<SignatureBundle, byte[], (string? Signer, string? Problem)> authenticate)
    {
        var report = new SignatureReport { Path = modelPath, SignaturePath = signaturePath };
        byte[] json = ReadFile(signaturePath, "signature");
        SignatureBundle bundle;
        SignedStatement statement;
        try { bundle = SignatureBundle.Read(json); }
        catch (FormatException ex) { return report with { Status = "Invalid", Reason = ex.Message }; }
        report = report with { Method = bundle.Method.ToString() };
        string? signer, problem;
        try { (signer, problem) = authenticate(bundle, json); }
        catch (CryptographicException ex)
        {
            return report with { Status = "Invalid", Reason = $"its certificate cannot be read ({ex.Message})" };
        }
        report = report with { Signer = signer };
        if (problem is not null) return report with { Status = "Invalid", Reason = problem };
        try { statement = SignedStatement.Read(bundle.Payload); }
        catch (FormatException ex) { return report with { Status = "Invalid", Reason = ex.Message }; }
        report = report with { PredicateType = statement.Type, FileCount = statement.Resources.Count };
        if (statement.HashType != "sha256" || statement.Method is not ("files" or "shards"))
            return report with { Status = "Unsupported", Reason = $"it hashes with {statement.HashType} by " +
                $"{statement.Method}; SHA-256 files and shards are verified here" };
        Dictionary<string, string> local;
        var ignores = (ignorePaths ?? Array.Empty<string>()).Append(signaturePath);
        try { local = ModelManifest.Describe(modelPath, statement, ignores, ct, progress); }
        catch (FormatException ex) { return report with { Status = "Invalid", Reason = ex.Message }; }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new TorchSerialException(ErrorIds.FileOpenFailed, ErrorKind.ResourceUnavailable,
                $"The model '{modelPath}' cannot be read: {ex.Message}", ex);
        }
        var differences = ModelManifest.Differences(statement.Resources, local);
        return differences.Count == 0 ? report with { Status = "Valid" }
            : report with { Status = "Invalid", Reason = "the files differ from the signed ones: " +
                string.Join("; ", differences.Take(10))
                + (differences.Count > 10 ? $"; and {differences.Count - 10} more" : "") };
    }

    /// <summary>ECDSA over the DSSE pre-authentication encoding, DER-encoded, with the curve's hash; failing that,
    /// over model_signing 0.2's encoding with <paramref name="legacyHash"/> (null: the curve's hash).</summary>
    private static bool Signed(ECDsa key, SignatureBundle bundle, HashAlgorithmName? legacyHash)
    {
        var hash = key.KeySize switch
        {
            256 => HashAlgorithmName.SHA256,
            384 => HashAlgorithmName.SHA384,
            _ => HashAlgorithmName.SHA512,
        };
        try
        {
            return key.VerifyData(bundle.SignedBytes(), bundle.Signature, hash, DSASignatureFormat.Rfc3279DerSequence)
                || key.VerifyData(bundle.LegacySignedBytes(), bundle.Signature, legacyHash ?? hash,
                    DSASignatureFormat.Rfc3279DerSequence);
        }
        catch (CryptographicException) { return false; }
    }

    /// <summary>model_signing's key hint: the lowercase hex SHA-256 of the key re-exported as PEM, with its final
    /// line feed.</summary>
    public static string KeyHint(ECDsa key)
        => Convert.ToHexString(SHA256.HashData(Encoding.ASCII.GetBytes(key.ExportSubjectPublicKeyInfoPem() + "\n")))
            .ToLowerInvariant();

    private static ECDsa ReadKey(string path)
    {
        string pem = Encoding.ASCII.GetString(ReadFile(path, "public key"));
        var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(pem); // the PEM block is found inside any surrounding text
            return key;
        }
        catch (Exception ex) when (ex is ArgumentException or CryptographicException)
        {
            key.Dispose();
            throw new TorchSerialException(ErrorIds.SignatureKeyInvalid, ErrorKind.InvalidArgument,
                $"'{path}' holds no elliptic-curve public key in PEM form (P-256, P-384 or P-521): {ex.Message}", ex);
        }
    }

    /// <summary>Null when the leaf chains to one of the anchors (through the bundle's intermediates) at its notBefore,
    /// as model_signing sets the store's time, and may sign; else the reason.</summary>
    private static string? ChainProblem(X509Certificate2 leaf, IEnumerable<byte[]> intermediates,
        IReadOnlyList<string> anchorPaths)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.VerificationTime = leaf.NotBefore.AddSeconds(1);
        foreach (var path in anchorPaths)
        {
            var anchors = new X509Certificate2Collection();
            try { anchors.ImportFromPem(Encoding.ASCII.GetString(ReadFile(path, "certificate chain"))); }
            catch (CryptographicException ex)
            {
                throw new TorchSerialException(ErrorIds.SignatureKeyInvalid, ErrorKind.InvalidArgument,
                    $"'{path}' holds no PEM certificate: {ex.Message}", ex);
            }
            if (anchors.Count == 0)
                throw new TorchSerialException(ErrorIds.SignatureKeyInvalid, ErrorKind.InvalidArgument,
                    $"'{path}' holds no PEM certificate (-CertificateChainPath takes the certificates to trust).");
            chain.ChainPolicy.CustomTrustStore.AddRange(anchors);
        }
        foreach (var der in intermediates) chain.ChainPolicy.ExtraStore.Add(LoadCertificate(der));
        if (!chain.Build(leaf))
            return "its certificate does not chain to the given trust anchors: " + string.Join("; ",
                chain.ChainStatus.Select(s => s.StatusInformation.Trim()).Where(s => s.Length > 0).Distinct());
        bool canSign = leaf.Extensions.OfType<X509KeyUsageExtension>()
                .Any(u => u.KeyUsages.HasFlag(X509KeyUsageFlags.DigitalSignature))
            || leaf.Extensions.OfType<X509EnhancedKeyUsageExtension>()
                .Any(e => e.EnhancedKeyUsages.Cast<Oid>().Any(o => o.Value == "1.3.6.1.5.5.7.3.3"));
        return canSign ? null : "its certificate may not sign (no digitalSignature usage, no codeSigning purpose)";
    }

    internal static X509Certificate2 LoadCertificate(byte[] der)
    {
#if NET9_0_OR_GREATER
        return X509CertificateLoader.LoadCertificate(der);
#else
        return new X509Certificate2(der);
#endif
    }

    private static byte[] ReadFile(string path, string what)
    {
        try
        {
            if (new FileInfo(path).Length > 64 << 20)
                throw new TorchSerialException(ErrorIds.FileOpenFailed, ErrorKind.InvalidArgument,
                    $"The {what} file '{path}' is over 64 MiB.");
            return File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            bool missing = ex is FileNotFoundException or DirectoryNotFoundException;
            throw new TorchSerialException(missing ? ErrorIds.FileNotFound : ErrorIds.FileOpenFailed,
                missing ? ErrorKind.ObjectNotFound : ErrorKind.ResourceUnavailable,
                $"Cannot read the {what} file '{path}': {ex.Message}", ex);
        }
    }
}
