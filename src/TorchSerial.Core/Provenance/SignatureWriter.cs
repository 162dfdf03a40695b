using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using TorchSerial.Errors;

namespace TorchSerial.Provenance;

/// <summary>
/// Signs a model as <c>model_signing</c> 1.1 does (model-signing.md §1.2–1.8): a manifest of every file (SHA-256,
/// the files method; a single-file model is the one resource <c>.</c>), ordered as model_signing orders paths
/// (component by component), its root digest as the statement's subject, the statement signed over DSSE's
/// pre-authentication encoding with the curve's hash, and the Sigstore bundle v0.3 with the key's hint (or the
/// certificate chain, leaf first) written compact, as 1.1 writes it.
/// </summary>
public static class SignatureWriter
{
    /// <summary>Signs <paramref name="modelPath"/> and returns the bundle's bytes (the caller writes them).</summary>
    /// <param name="modelPath">The model folder, or a single-file model.</param>
    /// <param name="signaturePath">Where the bundle will be written: it is left out of the manifest and recorded.
    /// </param>
    /// <param name="ct">Stops hashing between files.</param>
    /// <param name="privateKey">An EC private key (P-256, P-384 or P-521).</param>
    /// <param name="chain">DER certificates, leaf first, for the certificate method; empty for the key method.</param>
    /// <param name="ignorePaths">Paths under the model left out and recorded, besides .git* and the signature.</param>
    /// <param name="progress">Hears (files done, files, bytes done, bytes) while the files are hashed.</param>
    public static byte[] Sign(string modelPath, string signaturePath, ECDsa privateKey, IReadOnlyList<byte[]> chain,
        IEnumerable<string> ignorePaths, CancellationToken ct = default, Action<int, int, long, long>? progress = null)
    {
        bool single = File.Exists(modelPath);
        string root = Path.GetFullPath(modelPath);
        var recorded = new List<string>();
        foreach (var p in ignorePaths.Append(signaturePath))
        {
            string relative = Path.GetRelativePath(single ? Path.GetDirectoryName(root)! : root, Path.GetFullPath(p))
                .Replace('\\', '/');
            if (!relative.StartsWith("..", StringComparison.Ordinal) && !Path.IsPathRooted(relative))
                recorded.Add(relative);
        }
        recorded.AddRange(ModelManifest.GitPaths);
        var statement = new SignedStatement
        {
            Method = "files", HashType = "sha256", AllowSymlinks = false,
            IgnorePaths = recorded.Distinct(StringComparer.Ordinal).ToList(), Resources = Array.Empty<SignedResource>(),
        };
        var local = ModelManifest.Describe(modelPath, statement, Array.Empty<string>(), ct, progress);
        if (local.Count == 0)
            throw new TorchSerialException(ErrorIds.SignatureKeyInvalid, ErrorKind.InvalidArgument,
                $"The model '{modelPath}' has no file to sign.");
        var resources = local.OrderBy(kv => kv.Key, PathOrder.Instance)
            .Select(kv => new SignedResource(kv.Key, "sha256", kv.Value)).ToList();
        string name = Path.GetFileName(root.TrimEnd(Path.DirectorySeparatorChar));
        byte[] payload = Payload(name, statement with { Resources = resources });
        var bundle = new SignedBundleText(payload, privateKey, chain);
        return bundle.ToBytes();
    }

    /// <summary>
    /// Reads a signing key and the chain to put beside it (PEM, leaf first), and checks that the leaf holds this key's
    /// public half. The key is PEM (PKCS#8, SEC1, or PKCS#8 encrypted with <paramref name="password"/>) or a PKCS#12
    /// file (<paramref name="password"/> opens it), whose certificate, and the other certificates it carries but its
    /// self-signed root, become the chain when no chain paths are given. P-256, P-384 or P-521. Problems are
    /// SignatureKeyInvalid naming the file.
    /// </summary>
    public static (ECDsa Key, List<byte[]> Chain) ReadSigner(string privateKeyPath, IEnumerable<string> chainPaths,
        string? password = null)
    {
        var (key, carried) = ReadKey(privateKeyPath, password);
        return (key, Chain(key, carried, chainPaths, privateKeyPath));
    }

    /// <summary>The signer of a certificate that holds its private key (the platform's certificate store, a loaded
    /// PKCS#12): the certificate first, then the chain paths' certificates.</summary>
    public static (ECDsa Key, List<byte[]> Chain) ReadSigner(X509Certificate2 certificate,
        IEnumerable<string> chainPaths)
    {
        ECDsa? key;
        try { key = certificate.HasPrivateKey ? certificate.GetECDsaPrivateKey() : null; }
        catch (CryptographicException ex)
        {
            throw new TorchSerialException(ErrorIds.SignatureKeyInvalid, ErrorKind.InvalidArgument,
                $"The private key of the certificate '{certificate.Subject}' cannot be used: {ex.Message}", ex);
        }
        if (key is null)
            throw new TorchSerialException(ErrorIds.SignatureKeyInvalid, ErrorKind.InvalidArgument,
                $"The certificate '{certificate.Subject}' has no elliptic-curve private key here to sign with.");
        return (key, [certificate.RawData, .. Certificates(chainPaths)]);
    }

    private static (ECDsa Key, List<byte[]> Carried) ReadKey(string path, string? password)
    {
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new TorchSerialException(ErrorIds.SignatureKeyInvalid, ErrorKind.InvalidArgument,
                $"'{path}' cannot be read: {ex.Message}", ex);
        }
        // A PKCS#12 file is DER (a SEQUENCE); PEM is text.
        if (bytes.Length > 0 && bytes[0] == 0x30) return ReadPkcs12(path, bytes, password);
        var key = ECDsa.Create();
        try
        {
            string pem = Encoding.ASCII.GetString(bytes);
            if (pem.Contains("-----BEGIN ENCRYPTED PRIVATE KEY-----", StringComparison.Ordinal))
            {
                if (password is null)
                    throw new ArgumentException("the key is encrypted; give its password with -Password");
                key.ImportFromEncryptedPem(pem, password);
            }
            else key.ImportFromPem(pem);
            return (key, []);
        }
        catch (Exception ex) when (ex is ArgumentException or CryptographicException)
        {
            key.Dispose();
            throw new TorchSerialException(ErrorIds.SignatureKeyInvalid, ErrorKind.InvalidArgument,
                $"'{path}' holds no readable elliptic-curve private key in PEM or PKCS#12 form: {ex.Message}", ex);
        }
    }

    private static (ECDsa Key, List<byte[]> Carried) ReadPkcs12(string path, byte[] bytes, string? password)
    {
        X509Certificate2Collection certificates;
        try
        {
#if NET9_0_OR_GREATER
            certificates = X509CertificateLoader.LoadPkcs12Collection(bytes, password,
                X509KeyStorageFlags.EphemeralKeySet);
#else
            certificates = new X509Certificate2Collection();
            certificates.Import(bytes, password, X509KeyStorageFlags.EphemeralKeySet);
#endif
        }
        catch (CryptographicException ex)
        {
            throw new TorchSerialException(ErrorIds.SignatureKeyInvalid, ErrorKind.InvalidArgument,
                $"'{path}' cannot be opened as PKCS#12" +
                    $"{(password is null ? " without a password (give -Password)" : "")}: {ex.Message}", ex);
        }
        var signer = certificates.FirstOrDefault(c => c.HasPrivateKey && c.GetECDsaPublicKey() is not null)
            ?? throw new TorchSerialException(ErrorIds.SignatureKeyInvalid, ErrorKind.InvalidArgument,
                $"'{path}' holds no certificate with an elliptic-curve private key.");
        var key = signer.GetECDsaPrivateKey()!;
        var carried = new List<byte[]> { signer.RawData };
        carried.AddRange(certificates.Where(c => !ReferenceEquals(c, signer) && c.Subject != c.Issuer)
            .Select(c => c.RawData));
        return (key, carried);
    }

    /// <summary>The chain to write: the chain paths' certificates, else what the key file carried; the first must
    /// hold the key's public half.</summary>
    private static List<byte[]> Chain(ECDsa key, List<byte[]> carried, IEnumerable<string> chainPaths, string what)
    {
        var chain = Certificates(chainPaths);
        if (chain.Count == 0) chain = carried;
        if (chain.Count > 0)
        {
            using var leaf = SignatureVerifier.LoadCertificate(chain[0]);
            using var leafKey = leaf.GetECDsaPublicKey();
            if (leafKey is null || SignatureVerifier.KeyHint(leafKey) != SignatureVerifier.KeyHint(key))
                throw new TorchSerialException(ErrorIds.SignatureKeyInvalid, ErrorKind.InvalidArgument,
                    $"The first certificate given ({leaf.Subject}) is not for the private key '{what}'; " +
                        "give the signing certificate first, then its chain.");
        }
        return chain;
    }

    /// <summary>Every certificate of the PEM files, in order.</summary>
    private static List<byte[]> Certificates(IEnumerable<string> paths)
    {
        var all = new List<byte[]>();
        foreach (var path in paths)
        {
            var certificates = new X509Certificate2Collection();
            try { certificates.ImportFromPem(File.ReadAllText(path)); }
            catch (Exception ex) when (ex is CryptographicException or IOException or UnauthorizedAccessException)
            {
                throw new TorchSerialException(ErrorIds.SignatureKeyInvalid, ErrorKind.InvalidArgument,
                    $"'{path}' holds no readable PEM certificate: {ex.Message}", ex);
            }
            all.AddRange(certificates.Select(c => c.RawData));
        }
        return all;
    }

    /// <summary>The in-toto statement as protobuf's JSON mapping prints it (two-space indent).</summary>
    private static byte[] Payload(string subject, SignedStatement s)
    {
        var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("_type", SignedStatement.StatementType);
            w.WriteStartArray("subject");
            w.WriteStartObject();
            w.WriteString("name", subject);
            w.WriteStartObject("digest");
            w.WriteString("sha256", SignedStatement.RootDigest(s.Resources));
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteString("predicateType", SignedStatement.PredicateType);
            w.WriteStartObject("predicate");
            w.WriteStartObject("serialization");
            w.WriteString("method", s.Method);
            w.WriteString("hash_type", s.HashType);
            w.WriteBoolean("allow_symlinks", s.AllowSymlinks);
            w.WriteStartArray("ignore_paths");
            foreach (var p in s.IgnorePaths) w.WriteStringValue(p);
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteStartArray("resources");
            foreach (var r in s.Resources)
            {
                w.WriteStartObject();
                w.WriteString("algorithm", r.Algorithm);
                w.WriteString("name", r.Name);
                w.WriteString("digest", r.Digest);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return stream.ToArray();
    }

    /// <summary>The bundle: DSSE envelope signed with the key, and the key's hint or the chain.</summary>
    private sealed class SignedBundleText(byte[] payload, ECDsa key, IReadOnlyList<byte[]> chain)
    {
        public byte[] ToBytes()
        {
            var hash = key.KeySize switch
            {
                256 => HashAlgorithmName.SHA256,
                384 => HashAlgorithmName.SHA384,
                521 => HashAlgorithmName.SHA512,
                _ => throw new TorchSerialException(ErrorIds.SignatureKeyInvalid, ErrorKind.InvalidArgument,
                    $"A {key.KeySize}-bit key is not one of P-256, P-384 and P-521."),
            };
            var envelope = new SignatureBundle.Unsigned(payload);
            byte[] signature = key.SignData(envelope.SignedBytes(), hash, DSASignatureFormat.Rfc3279DerSequence);
            var stream = new MemoryStream();
            using (var w = new Utf8JsonWriter(stream))
            {
                w.WriteStartObject();
                w.WriteString("mediaType", SignatureBundle.MediaType);
                w.WriteStartObject("verificationMaterial");
                if (chain.Count == 0)
                {
                    w.WriteStartObject("publicKey");
                    w.WriteString("hint", SignatureVerifier.KeyHint(key));
                    w.WriteEndObject();
                }
                else
                {
                    w.WriteStartObject("x509CertificateChain");
                    w.WriteStartArray("certificates");
                    foreach (var der in chain)
                    {
                        w.WriteStartObject();
                        w.WriteBase64String("rawBytes", der);
                        w.WriteEndObject();
                    }
                    w.WriteEndArray();
                    w.WriteEndObject();
                }
                w.WriteStartArray("tlogEntries");
                w.WriteEndArray();
                w.WriteEndObject();
                w.WriteStartObject("dsseEnvelope");
                w.WriteBase64String("payload", payload);
                w.WriteString("payloadType", SignatureBundle.PayloadType);
                w.WriteStartArray("signatures");
                w.WriteStartObject();
                w.WriteBase64String("sig", signature);
                w.WriteString("keyid", "");
                w.WriteEndObject();
                w.WriteEndArray();
                w.WriteEndObject();
                w.WriteEndObject();
            }
            return stream.ToArray();
        }
    }

    /// <summary>model_signing's order of resource names: as POSIX paths, component by component, each by code
    /// point (so <c>a/b</c> comes before <c>a-b</c> and <c>a.txt</c>).</summary>
    private sealed class PathOrder : IComparer<string>
    {
        public static readonly PathOrder Instance = new();

        public int Compare(string? x, string? y)
        {
            var a = (x ?? "").Split('/');
            var b = (y ?? "").Split('/');
            for (int i = 0; i < Math.Min(a.Length, b.Length); i++)
            {
                int c = string.CompareOrdinal(a[i], b[i]);
                if (c != 0) return c;
            }
            return a.Length.CompareTo(b.Length);
        }
    }
}
