namespace TorchSerial.Provenance;

/// <summary>Where a model's signature is by default: <c>model.sig</c> in the model folder, or beside a single-file
/// model.</summary>
public static class SignatureFile
{
    public const string DefaultName = "model.sig";

    public static string For(string modelPath)
        => System.IO.Path.Combine(Directory.Exists(modelPath) ? modelPath
            : System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(modelPath))!, DefaultName);
}
