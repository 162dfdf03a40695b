using System.Management.Automation;
using TorchSerial.Errors;
using TorchSerial.Provenance;

namespace TorchSerial.PowerShell.Commands;

/// <summary>
/// Signs a model folder (or file) as model_signing 1.1 does, with a local EC key, optionally with its certificate
/// chain: writes the OMS bundle (model.sig by default), which Test-ModelSignature and model_signing's verifier check.
/// </summary>
[Cmdlet(VerbsCommon.Set, "ModelSignature", SupportsShouldProcess = true, DefaultParameterSetName = KeySet)]
[OutputType(typeof(FileInfo))]
public sealed class SetModelSignatureCommand : PSCmdlet, IDisposable
{
    private const string KeySet = "Key";
    private const string CertificateSet = "Certificate";
    private readonly CancellationTokenSource _cancel = new();

    /// <summary>The model folder to sign (or a single-file model).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("PSPath", "LiteralPath")]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = "";

    /// <summary>The EC private key (P-256, P-384 or P-521): PEM (PKCS#8 or SEC1; an encrypted PKCS#8 key with
    /// -Password), or a PKCS#12 file (.p12/.pfx, opened with -Password) whose certificate signs.</summary>
    [Parameter(Mandatory = true, ParameterSetName = KeySet)]
    [ValidateNotNullOrEmpty]
    public string PrivateKeyPath { get; set; } = "";

    /// <summary>The password of an encrypted PEM key or a PKCS#12 file.</summary>
    [Parameter(ParameterSetName = KeySet)]
    public System.Security.SecureString? Password { get; set; }

    /// <summary>A certificate that holds its EC private key (from the platform's certificate store, Cert:\ on
    /// Windows, or a loaded PKCS#12): it signs by the certificate method.</summary>
    [Parameter(Mandatory = true, ParameterSetName = CertificateSet)]
    [ValidateNotNull]
    public System.Security.Cryptography.X509Certificates.X509Certificate2? Certificate { get; set; }

    /// <summary>For the certificate method: PEM files with the signing certificate first (it must hold the private
    /// key's public half), then the chain up to (not including) the root.</summary>
    [Parameter]
    public string[] CertificateChainPath { get; set; } = Array.Empty<string>();

    /// <summary>Where the signature goes; by default model.sig in the model folder (beside a single-file model).
    /// </summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? SignaturePath { get; set; }

    /// <summary>Paths under the model that are not signed (recorded in the signature, so verifiers skip them too).
    /// </summary>
    [Parameter]
    public string[] IgnorePath { get; set; } = Array.Empty<string>();

    /// <summary>Replaces an existing signature file.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Emits the signature file written.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        string model = SessionState.Path.GetUnresolvedProviderPathFromPSPath(Path);
        if (!Directory.Exists(model) && !File.Exists(model))
        {
            WriteError(ErrorRecords.PathNotFound(Path));
            return;
        }
        string signature = SignaturePath is null ? SignatureFile.For(model)
            : SessionState.Path.GetUnresolvedProviderPathFromPSPath(SignaturePath);
        if (!OutputFile.MayReplace(this, signature, Force, noClobber: !Force && File.Exists(signature), WriteError))
            return;
        if (!ShouldProcess(signature, $"Sign '{model}'")) return;
        try
        {
            var chainPaths = CertificateChainPath.Select(p => SessionState.Path.GetUnresolvedProviderPathFromPSPath(p));
            var (key, chain) = Certificate is not null ? SignatureWriter.ReadSigner(Certificate, chainPaths)
                : SignatureWriter.ReadSigner(SessionState.Path.GetUnresolvedProviderPathFromPSPath(PrivateKeyPath),
                    chainPaths, Password is null ? null : RemoteInputs.Plain(Password));
            byte[] bundle;
            var progress = new ProgressReporter(this, "Signing the model", model);
            using (key)
                bundle = SignatureWriter.Sign(model, signature, key, chain,
                    IgnorePath.Select(p => SessionState.Path.GetUnresolvedProviderPathFromPSPath(p)), _cancel.Token,
                    progress.Files);
            progress.Complete();
            string temp = signature + "." + Guid.NewGuid().ToString("N")[..8] + ".tmp";
            File.WriteAllBytes(temp, bundle);
            File.Move(temp, signature, overwrite: true);
            if (PassThru) WriteObject(OutputFile.Item(this, signature));
        }
        catch (TorchSerialException ex)
        {
            WriteError(ErrorRecords.ForFile(ex, model));
        }
        catch (OperationCanceledException)
        {
            throw new PipelineStoppedException();
        }
    }

    protected override void StopProcessing() => _cancel.Cancel();

    public void Dispose() => _cancel.Dispose();
}
