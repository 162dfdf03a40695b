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
    public static byte[] Sign(string modelPath, string signaturePath, ECDsa privateKey, IReadOnlyList<byte[]> chain,
        IEnumerable<string> ignorePaths, CancellationToken ct = default)
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
        var local = ModelManifest.Describe(modelPath, statement, Array.Empty<string>(), ct);
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
    /// Reads a signing key (PKCS#8 or SEC1 PEM, P-256/384/521) and the chain to put beside it (PEM, leaf first), and
    /// checks that the leaf holds this key's public half. Problems are SignatureKeyInvalid naming the file.
    /// </summary>
    public static (ECDsa Key, List<byte[]> Chain) ReadSigner(string privateKeyPath, IEnumerable<string> chainPaths)
    {
        var key = ECDsa.Create();
        try { key.ImportFromPem(Encoding.ASCII.GetString(File.ReadAllBytes(privateKeyPath))); }
        catch (Exception ex) when (ex is ArgumentException or CryptographicException or IOException
            or UnauthorizedAccessException)
        {
            key.Dispose();
            throw new TorchSerialException(ErrorIds.SignatureKeyInvalid, ErrorKind.InvalidArgument,
                $"'{privateKeyPath}' holds no readable elliptic-curve private key in PEM form: {ex.Message}", ex);
        }
        var chain = new List<byte[]>();
        foreach (var path in chainPaths)
        {
            var certificates = new X509Certificate2Collection();
            try { certificates.ImportFromPem(File.ReadAllText(path)); }
            catch (Exception ex) when (ex is CryptographicException or IOException or UnauthorizedAccessException)
            {
                throw new TorchSerialException(ErrorIds.SignatureKeyInvalid, ErrorKind.InvalidArgument,
                    $"'{path}' holds no readable PEM certificate: {ex.Message}", ex);
            }
            chain.AddRange(certificates.Select(c => c.RawData));
        }
        if (chain.Count > 0)
        {
            using var leaf = SignatureVerifier.LoadCertificate(chain[0]);
            using var leafKey = leaf.GetECDsaPublicKey();
            if (leafKey is null || SignatureVerifier.KeyHint(leafKey) != SignatureVerifier.KeyHint(key))
                throw new TorchSerialException(ErrorIds.SignatureKeyInvalid, ErrorKind.InvalidArgument,
                    $"The first certificate given ({leaf.Subject}) is not for the private key '{privateKeyPath}'; " +
                        "give the signing certificate first, then its chain.");
        }
        return (key, chain);
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
