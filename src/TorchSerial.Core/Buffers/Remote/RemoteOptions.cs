namespace TorchSerial.Buffers.Remote;

/// <summary>How remote files are reached: the token, TLS checks, and the patience for slow or failing
/// servers.</summary>
public sealed record RemoteOptions
{
    public static readonly RemoteOptions Default = new();

    /// <summary>
    /// A bearer token sent to the address's own host (never to a host it redirects to). Null: for hf:// (and the
    /// Hub's own URLs) the token huggingface_hub would use (<see cref="HubToken"/>); for other URLs, none.
    /// </summary>
    public string? Token { get; init; }

    /// <summary>Accept any TLS certificate (a self-signed test or internal server), as the web cmdlets'
    /// -SkipCertificateCheck.</summary>
    public bool SkipCertificateCheck { get; init; }

    /// <summary>How long a request may wait for its response headers, or for the next bytes of its body, before it
    /// counts as failed (and is retried).</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How many times one range is tried again after a cut connection, a timeout, a 429 or a 5xx.</summary>
    public int MaxRetries { get; init; } = 4;

    /// <summary>The longest wait a server's Retry-After may ask for; a longer one fails the read at once.</summary>
    public TimeSpan MaxRetryWait { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>The wait before the first retry when the server names none; it doubles each time.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromMilliseconds(250);
}
