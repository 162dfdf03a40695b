namespace TorchSerial.Provenance;

/// <summary>What Test-ModelSignature found for one model: whether its signature holds, and who signed it.</summary>
public sealed record SignatureReport
{
    /// <summary>The model folder or file.</summary>
    public string Path { get; init; } = "";

    /// <summary>The signature file read.</summary>
    public string SignaturePath { get; init; } = "";

    /// <summary>Valid, Invalid, or Unsupported (a signature of a kind not verified here; not a verdict on the
    /// model).</summary>
    public string Status { get; init; } = "";

    /// <summary>Why it is not Valid; null when it is.</summary>
    public string? Reason { get; init; }

    /// <summary>Key, Certificate or Sigstore.</summary>
    public string? Method { get; init; }

    /// <summary>The signer: the key's hint (SHA-256 of its PEM), the leaf certificate's subject, or a keyless
    /// signature's identity (the Fulcio certificate's e-mail or URI).</summary>
    public string? Signer { get; init; }

    public string? PredicateType { get; init; }

    /// <summary>Resources the signature lists and that were checked against the local files.</summary>
    public int FileCount { get; init; }

    /// <summary>True only for Valid: <c>if (Test-ModelSignature ...)</c> reads as one expects.</summary>
    public bool IsValid => Status == "Valid";
}
