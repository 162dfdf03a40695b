using System.Management.Automation;
using TorchSerial.Errors;
using TorchSerial.Provenance;

namespace TorchSerial.PowerShell.Commands;

/// <summary>
/// Verifies OpenSSF model-signing (OMS) signatures offline: a model folder or file against its <c>model.sig</c>, with
/// a public key or a certificate chain's trust anchors. One report a model (Valid, Invalid with the reason, or
/// Unsupported), or with -Quiet one bool for all, as Test-TorchCheckpoint -Quiet.
/// </summary>
[Cmdlet(VerbsDiagnostic.Test, "ModelSignature", DefaultParameterSetName = KeySet)]
[OutputType(typeof(SignatureReport), typeof(bool))]
public sealed class TestModelSignatureCommand : PSCmdlet, IDisposable
{
    private const string KeySet = "Key";
    private const string CertificateSet = "Certificate";
    private const string KeylessSet = "Keyless";
    private readonly CancellationTokenSource _cancel = new();
    private bool _allValid = true;
    private int _count;

    /// <summary>The model folders (or single-file models) to verify; wildcards are expanded.</summary>
    [Parameter(Position = 0, ValueFromPipeline = true)]
    [SupportsWildcards]
    public string[] Path { get; set; } = Array.Empty<string>();

    /// <summary>The model folders or files, used exactly as typed (alias PSPath, so Get-Item output binds).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [Alias("PSPath", "LP")]
    public string[] LiteralPath { get; set; } = Array.Empty<string>();

    /// <summary>The signature file; by default model.sig in the model folder (beside a single-file model).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? SignaturePath { get; set; }

    /// <summary>The signer's public key, PEM (P-256, P-384 or P-521), for signatures made with a private key.</summary>
    [Parameter(Mandatory = true, ParameterSetName = KeySet)]
    [ValidateNotNullOrEmpty]
    public string PublicKeyPath { get; set; } = "";

    /// <summary>PEM files of the certificates to trust (roots or intermediates) for signatures made with a
    /// certificate; the chain's other certificates travel in the signature.</summary>
    [Parameter(Mandatory = true, ParameterSetName = CertificateSet)]
    [ValidateNotNullOrEmpty]
    public string[] CertificateChainPath { get; set; } = Array.Empty<string>();

    /// <summary>The signer's identity (the Fulcio certificate's SAN: an e-mail or a workflow URI) for keyless
    /// Sigstore signatures, verified offline against a trusted root.</summary>
    [Parameter(Mandatory = true, ParameterSetName = KeylessSet)]
    [ValidateNotNullOrEmpty]
    public string Identity { get; set; } = "";

    /// <summary>The OIDC issuer of -Identity (https://token.actions.githubusercontent.com, …), for keyless
    /// signatures.</summary>
    [Parameter(Mandatory = true, ParameterSetName = KeylessSet)]
    [ValidateNotNullOrEmpty]
    public string Issuer { get; set; } = "";

    /// <summary>A Sigstore trusted root (trusted_root.json) for keyless signatures: a newer public-good one, or a
    /// private Sigstore's; by default the public-good root the module carries.</summary>
    [Parameter(ParameterSetName = KeylessSet)]
    [ValidateNotNullOrEmpty]
    public string? TrustedRootPath { get; set; }

    /// <summary>Paths left out of the comparison besides those the signature records (and .git*, the signature
    /// file): files the model folder holds that were never signed.</summary>
    [Parameter]
    public string[] IgnorePath { get; set; } = Array.Empty<string>();

    /// <summary>Returns one bool for all models: true only when every one is Valid.</summary>
    [Parameter]
    public SwitchParameter Quiet { get; set; }

    protected override void ProcessRecord()
    {
        if (Path.Length + LiteralPath.Length == 0)
            ThrowTerminatingError(ErrorRecords.NoModelPath());
        var inputs = Path.Select(p => (Text: p, Literal: false))
            .Concat(LiteralPath.Select(p => (Text: p, Literal: true)));
        foreach (var (input, literal) in inputs)
        {
            List<string> models;
            try
            {
                models = literal ? new List<string> { SessionState.Path.GetUnresolvedProviderPathFromPSPath(input) }
                    : GetResolvedProviderPathFromPSPath(input, out _).ToList();
                if (models.FirstOrDefault(m => !File.Exists(m) && !Directory.Exists(m)) is { } absent)
                    throw new ItemNotFoundException($"Cannot find path '{absent}' because it does not exist.");
            }
            catch (Exception ex) when (ex is ItemNotFoundException or PSArgumentException or NotSupportedException)
            {
                _allValid = false;
                WriteError(ErrorRecords.PathNotFound(input, ex));
                continue;
            }
            foreach (var model in models)
            {
                string signature = SignaturePath is null ? SignatureFile.For(model)
                    : SessionState.Path.GetUnresolvedProviderPathFromPSPath(SignaturePath);
                var ignores = IgnorePath.Select(p => SessionState.Path.GetUnresolvedProviderPathFromPSPath(p));
                var progress = new ProgressReporter(this, "Verifying the model signature", model);
                try
                {
                    var report = ParameterSetName switch
                    {
                        CertificateSet => SignatureVerifier.VerifyWithCertificates(model, signature,
                            CertificateChainPath.Select(p => SessionState.Path.GetUnresolvedProviderPathFromPSPath(p))
                                .ToList(), ignores, _cancel.Token, progress.Files),
                        KeylessSet => SignatureVerifier.VerifyKeyless(model, signature, Identity, Issuer,
                            TrustedRootPath is null ? null
                                : SessionState.Path.GetUnresolvedProviderPathFromPSPath(TrustedRootPath),
                            ignores, _cancel.Token, progress.Files),
                        _ => SignatureVerifier.VerifyWithKey(model, signature,
                            SessionState.Path.GetUnresolvedProviderPathFromPSPath(PublicKeyPath), ignores,
                            _cancel.Token, progress.Files),
                    };
                    progress.Complete();
                    _count++;
                    _allValid &= report.IsValid;
                    if (!Quiet) WriteObject(report);
                }
                catch (TorchSerialException ex)
                {
                    _allValid = false;
                    WriteError(ErrorRecords.ForFile(ex, model));
                }
                catch (OperationCanceledException)
                {
                    throw new PipelineStoppedException();
                }
            }
        }
    }

    protected override void EndProcessing()
    {
        if (Quiet) WriteObject(_allValid && _count > 0);
    }

    protected override void StopProcessing() => _cancel.Cancel();

    public void Dispose() => _cancel.Dispose();
}
