namespace TorchSerial.Buffers.Remote;

/// <summary>
/// The Hugging Face token a Hub address is read with when none is given, found where huggingface_hub looks
/// (remote-checkpoints.md §1.5): <c>HF_TOKEN</c> (or the older <c>HUGGING_FACE_HUB_TOKEN</c>), then the file
/// <c>HF_TOKEN_PATH</c> names, else <c>$HF_HOME/token</c>. <c>HF_HUB_DISABLE_IMPLICIT_TOKEN</c> turns the lookup off.
/// </summary>
public static class HubToken
{
    public static string? Find()
    {
        if (IsSet("HF_HUB_DISABLE_IMPLICIT_TOKEN")) return null;
        foreach (var name in new[] { "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN" })
            if (Environment.GetEnvironmentVariable(name) is { } value && value.Trim().Length > 0) return value.Trim();
        string file = Environment.GetEnvironmentVariable("HF_TOKEN_PATH") is { Length: > 0 } path ? path
            : Path.Combine(HubHome, "token");
        try { return File.Exists(file) && File.ReadAllText(file).Trim() is { Length: > 0 } t ? t : null; }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { return null; }
    }

    /// <summary><c>HF_HOME</c>, else <c>$XDG_CACHE_HOME/huggingface</c>, else <c>~/.cache/huggingface</c>.</summary>
    public static string HubHome
    {
        get
        {
            if (Environment.GetEnvironmentVariable("HF_HOME") is { Length: > 0 } home) return Expand(home);
            string cache = Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg ? Expand(xdg)
                : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
            return Path.Combine(cache, "huggingface");
        }
    }

    private static string Expand(string path) => path.StartsWith('~')
        ? Environment.GetFolderPath(Environment.SpecialFolder.UserProfile) + path[1..] : path;

    private static bool IsSet(string name)
        => Environment.GetEnvironmentVariable(name)?.Trim().ToLowerInvariant() is "1" or "true" or "yes" or "on";
}
