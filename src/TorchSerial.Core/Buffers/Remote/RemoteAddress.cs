using TorchSerial.Errors;

namespace TorchSerial.Buffers.Remote;

/// <summary>
/// Where a remote checkpoint is: an <c>http(s)://</c> URL, or a file of a Hugging Face Hub repo named as
/// huggingface_hub's file system names it, <c>hf://[datasets/|spaces/]org/repo[@revision]/path/in/repo</c>, which
/// resolves to <c>{HF_ENDPOINT}/{repo}/resolve/{revision}/{path}</c> (remote-checkpoints.md §1.1). Validated once,
/// immutable after.
/// </summary>
public sealed class RemoteAddress
{
    public const string HubScheme = "hf://";
    public const string DefaultEndpoint = "https://huggingface.co";
    public const string DefaultRevision = "main";

    private RemoteAddress(string text, Uri url)
    {
        Text = text;
        Url = url;
    }

    /// <summary>The address as the user wrote it; errors name it.</summary>
    public string Text { get; }

    /// <summary>The URL first requested (for hf://, the Hub's resolve URL).</summary>
    public Uri Url { get; }

    /// <summary>For hf://: the repo type's prefix ("", "datasets/", "spaces/").</summary>
    public string? RepoTypePrefix { get; private init; }

    /// <summary>For hf://: org/name.</summary>
    public string? Repo { get; private init; }

    /// <summary>For hf://: the revision (a branch, tag or commit), percent-decoded.</summary>
    public string? Revision { get; private init; }

    /// <summary>For hf://: the file's path inside the repo.</summary>
    public string? PathInRepo { get; private init; }

    public bool IsHub => Repo is not null;

    /// <summary>True for hf:// addresses and for URLs on the Hub's own origin: the ones the implicit Hub token
    /// (HF_TOKEN, the token file) is for.</summary>
    public bool IsOnHub
        => IsHub || (Uri.TryCreate(HubEndpoint, UriKind.Absolute, out var hub) && SameOrigin(Url, hub));

    /// <summary>Same scheme, host and port: where a token given for one may go.</summary>
    public static bool SameOrigin(Uri a, Uri b)
        => a.Scheme == b.Scheme && string.Equals(a.IdnHost, b.IdnHost, StringComparison.OrdinalIgnoreCase)
            && a.Port == b.Port;

    public override string ToString() => Text;

    /// <summary>True when <paramref name="text"/> names a remote file (http://, https:// or hf://), not a local
    /// path.</summary>
    public static bool IsRemote(string? text)
        => text is not null && (text.StartsWith("http://", StringComparison.OrdinalIgnoreCase)
            || text.StartsWith("https://", StringComparison.OrdinalIgnoreCase)
            || text.StartsWith(HubScheme, StringComparison.OrdinalIgnoreCase));

    /// <summary>The Hub's endpoint: <c>HF_ENDPOINT</c> (a mirror, or a test server), else huggingface.co.</summary>
    public static string HubEndpoint
    {
        get
        {
            var value = Environment.GetEnvironmentVariable("HF_ENDPOINT");
            return string.IsNullOrWhiteSpace(value) ? DefaultEndpoint : value.Trim().TrimEnd('/');
        }
    }

    /// <summary>Parses a remote address; anything malformed is RemoteAddressInvalid naming it.</summary>
    public static RemoteAddress Parse(string text)
    {
        if (text.StartsWith(HubScheme, StringComparison.OrdinalIgnoreCase)) return ParseHub(text);
        if (!Uri.TryCreate(text, UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttp
            && url.Scheme != Uri.UriSchemeHttps) || string.IsNullOrEmpty(url.Host))
            throw Invalid(text, "it is not an absolute http:// or https:// URL");
        return new RemoteAddress(text, url);
    }

    private static RemoteAddress ParseHub(string text)
    {
        string rest = text[HubScheme.Length..];
        string prefix = "";
        foreach (var type in new[] { "datasets/", "spaces/", "models/" })
            if (rest.StartsWith(type, StringComparison.Ordinal))
            {
                prefix = type == "models/" ? "" : type;
                rest = rest[type.Length..];
                break;
            }
        var parts = rest.Split('/');
        if (parts.Length < 3 || parts.Any(p => p.Length == 0 || p is "." or ".."))
            throw Invalid(text, "an hf:// address is hf://org/repo[@revision]/path/in/repo, with no empty, '.' or " +
                "'..' segment");
        string org = parts[0], name = parts[1], revision = DefaultRevision;
        int at = name.IndexOf('@');
        if (at >= 0)
        {
            revision = Uri.UnescapeDataString(name[(at + 1)..]);
            name = name[..at];
            if (name.Length == 0 || revision.Split('/').Any(p => p is "" or "." or ".."))
                throw Invalid(text, "the repo is empty, or its revision has an empty, '.' or '..' segment");
        }
        string path = string.Join('/', parts.Skip(2));
        string endpoint = HubEndpoint;
        string url = $"{endpoint}/{prefix}{Uri.EscapeDataString(org)}/{Uri.EscapeDataString(name)}/resolve/" +
            $"{Uri.EscapeDataString(revision)}/{string.Join('/', parts.Skip(2).Select(Uri.EscapeDataString))}";
        if (!Uri.TryCreate(url, UriKind.Absolute, out var resolved)
            || (resolved.Scheme != Uri.UriSchemeHttp && resolved.Scheme != Uri.UriSchemeHttps))
            throw Invalid(text, $"HF_ENDPOINT ('{endpoint}') is not an http:// or https:// URL");
        return new RemoteAddress(text, resolved)
        {
            RepoTypePrefix = prefix,
            Repo = $"{org}/{name}",
            Revision = revision,
            PathInRepo = path,
        };
    }

    /// <summary>
    /// A file named relative to this one (a sharded set's shard, beside its index), kept inside the same repo or
    /// folder: a name that is a URL of its own, or climbs out with '..', is refused rather than followed (a token
    /// would go with it).
    /// </summary>
    public RemoteAddress Sibling(string name)
    {
        if (name.Length == 0 || name.Contains(':') || name.Contains('\\') || name.StartsWith('/')
            || name.Split('/').Any(p => p is "" or "." or ".."))
            throw Invalid(Text, $"the file '{name}' it names is not a plain relative path inside the same folder");
        if (IsHub)
        {
            int slash = PathInRepo!.LastIndexOf('/');
            string folder = slash < 0 ? "" : PathInRepo[..(slash + 1)];
            string revision = Revision == DefaultRevision ? "" : "@" + Uri.EscapeDataString(Revision!);
            string[] repo = Repo!.Split('/');
            return Parse($"{HubScheme}{RepoTypePrefix}{repo[0]}/{repo[1]}{revision}/{folder}{name}");
        }
        var url = new Uri(Url, string.Join('/', name.Split('/').Select(Uri.EscapeDataString)));
        return new RemoteAddress(url.AbsoluteUri, url);
    }

    /// <summary>How messages name the file: for hf://, its path, repo and revision.</summary>
    internal string Describe()
        => IsHub ? $"'{PathInRepo}' in the Hub repo '{RepoTypePrefix}{Repo}' at revision '{Revision}'" : $"'{Text}'";

    private static TorchSerialException Invalid(string text, string why)
        => new(ErrorIds.RemoteAddressInvalid, ErrorKind.InvalidArgument, $"'{text}' is not a usable address: {why}.");
}
