using System.Net;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Security.Authentication;
using TorchSerial.Errors;

namespace TorchSerial.Buffers.Remote;

/// <summary>
/// A file on an HTTP(S) server, read by ranges: the same bytes a local file gives, one request per range. Opening it
/// asks for the first <see cref="FirstRead"/> bytes, which also tells the size (a safetensors header or a zip's first
/// record usually fits); later reads ask for exactly what is read, except small ones, which fetch a window kept for
/// the reads around it (a zip's tail and directory, a record's local header).
/// <para>
/// Never wrong bytes: the file's identity (its ETag, else Last-Modified, and its size; on the Hub the linked
/// SHA-256) is pinned at open and every later range is conditional on it (If-Range) and checked against it, so a file
/// replaced mid-read is CheckpointChanged, never a mix of two versions. Redirects are followed hop by hop; the token
/// goes to the address's own host only. A signed location that expires is resolved again from the address.
/// </para>
/// <para>
/// Never a hang: each request has a no-progress timeout; a cut body resumes from its last byte; 429 and 5xx honour
/// Retry-After; all of it bounded. A server that ignores Range is refused rather than read whole.
/// </para>
/// </summary>
internal sealed class RemoteFile
{
    /// <summary>The first request's size: as huggingface_hub reads safetensors headers (97% fit in 100 kB).</summary>
    public const int FirstRead = 100 * 1024;

    /// <summary>Reads smaller than this fetch a window of at least <see cref="Window"/> bytes and keep it.</summary>
    public const int DirectRead = 256 * 1024;

    public const int Window = 64 * 1024;
    private const int MaxWindows = 64;
    private const int MaxRedirects = 10;

    private readonly RemoteAddress _address;
    private readonly RemoteOptions _options;
    private readonly HttpClient _client;
    private readonly string? _token;
    private readonly CancellationToken _stop;
    private Uri _location;
    private string? _validator;
    private string? _etag;
    private readonly LinkedList<(long Start, byte[] Bytes)> _windows = new();
    private int _requests;
    private long _received;

    private RemoteFile(RemoteAddress address, RemoteOptions options, CancellationToken stop)
    {
        _address = address;
        _options = options;
        _client = HttpClients.For(options);
        _token = options.Token ?? (address.IsOnHub ? HubToken.Find() : null);
        _stop = stop;
        _location = address.Url;
    }

    public RemoteAddress Address => _address;

    /// <summary>The file's size in bytes, as the server told it at open.</summary>
    public long Length { get; private set; }

    /// <summary>The SHA-256 of the whole file where the server vouches for one (the Hub's X-Linked-Etag for files in
    /// LFS or Xet); null otherwise.</summary>
    public string? Sha256 { get; private set; }

    /// <summary>The ETag the file was opened with (quotes kept), if the server sent one.</summary>
    public string? ETag => _etag;

    /// <summary>What names these exact bytes: the SHA-256 the server vouches for, else its ETag without quotes or
    /// <c>W/</c> (as huggingface_hub names cache blobs); null when the server sends neither.</summary>
    public string? ContentId => Sha256 ?? Normalise(_etag);

    /// <summary>The commit the Hub resolved the revision to (X-Repo-Commit), for hf:// addresses.</summary>
    public string? Commit { get; private set; }

    /// <summary>Requests sent so far (redirect hops included) and body bytes received: what a listing cost.</summary>
    public int Requests => Volatile.Read(ref _requests);

    public long BytesReceived => Interlocked.Read(ref _received);

    /// <summary>Opens the file: one ranged GET for its first bytes, which also pins its size and identity.</summary>
    public static RemoteFile Open(RemoteAddress address, RemoteOptions? options = null,
        CancellationToken stop = default)
    {
        var file = new RemoteFile(address, options ?? RemoteOptions.Default, stop);
        file.OpenFirst();
        return file;
    }

    /// <summary>Reads exactly <paramref name="destination"/>.Length bytes at <paramref name="offset"/>, from a kept
    /// window where one holds them, else by one range request (a small read fetches and keeps a window).</summary>
    public void ReadAt(long offset, Span<byte> destination)
    {
        if (offset < 0 || offset > Length - destination.Length) throw new EndOfStreamException();
        if (destination.IsEmpty || TryWindow(offset, destination)) return;
        if (destination.Length >= DirectRead)
        {
            Fetch(offset, destination);
            return;
        }
        long size = Math.Min(Length, Math.Max(destination.Length, Window));
        long start = Math.Min(offset, Length - size); // near the end: the window ends at the end (a zip's tail)
        var window = new byte[size];
        Fetch(start, window);
        Keep(start, window);
        window.AsSpan((int)(offset - start), destination.Length).CopyTo(destination);
    }

    private bool TryWindow(long offset, Span<byte> destination)
    {
        lock (_windows)
            for (var node = _windows.First; node is not null; node = node.Next)
            {
                var (start, bytes) = node.Value;
                if (offset < start || offset + destination.Length > start + bytes.Length) continue;
                bytes.AsSpan((int)(offset - start), destination.Length).CopyTo(destination);
                if (node != _windows.First)
                {
                    _windows.Remove(node);
                    _windows.AddFirst(node);
                }
                return true;
            }
        return false;
    }

    private void Keep(long start, byte[] bytes)
    {
        lock (_windows)
        {
            _windows.AddFirst((start, bytes));
            while (_windows.Count > MaxWindows) _windows.RemoveLast();
        }
    }

    private void OpenFirst()
    {
        for (int attempt = 0; ; attempt++)
        {
            using var timeout = Timeout();
            HttpResponseMessage response;
            try { response = Send(0, FirstRead - 1, conditional: false, timeout.Token); }
            catch (Exception ex) when (Transient(ex))
            {
                Backoff(attempt, null, ex);
                continue;
            }
            using (response)
            {
                var status = (int)response.StatusCode;
                if (status is 429 or >= 500 and < 600)
                {
                    Backoff(attempt, response, null);
                    continue;
                }
                if (status == 416 && ContentRange.Parse(Header(response, "Content-Range")) is { Unsatisfied: true }
                    empty)
                {
                    Length = empty.Total; // an empty file has no byte 0; the reader then says so
                    Pin(response);
                    return;
                }
                if (status == 200)
                {
                    OpenWhole(response, timeout);
                    return;
                }
                if (status != 206) throw StatusError(response);
                var range = ContentRange.Parse(Header(response, "Content-Range"));
                // Never more than was asked for: a server's claim sizes nothing here before it is checked.
                if (range is not { First: 0 } r || r.Last >= FirstRead)
                    throw Invalid($"its answer to the range 0-{FirstRead - 1} has no usable Content-Range " +
                        $"('{Header(response, "Content-Range")}')");
                Length = r.Total;
                Pin(response);
                var head = new byte[r.Last + 1];
                if (!ReadBody(response, head, timeout, out int got) || got < head.Length)
                {
                    // Cut before the first window arrived: the ordinary resuming read fetches the rest.
                    Fetch(got, head.AsSpan(got));
                }
                Keep(0, head);
                return;
            }
        }
    }

    /// <summary>A 200 to the first range: the server ignores Range. A body no bigger than the first read is the whole
    /// file and is kept; anything bigger is refused before it is pulled.</summary>
    private void OpenWhole(HttpResponseMessage response, CancellationTokenSource timeout)
    {
        long? declared = response.Content.Headers.ContentLength;
        if (declared is null or <= FirstRead)
        {
            var body = new byte[FirstRead + 1];
            ReadBody(response, body, timeout, out int got);
            if (got <= FirstRead && (declared is null || got == declared))
            {
                Length = got;
                Pin(response);
                Keep(0, body[..got]);
                return;
            }
            declared ??= -1;
        }
        throw new TorchSerialException(ErrorIds.RemoteRangeNotSupported, ErrorKind.NotImplemented,
            $"The server of {_address.Describe()} ignores range requests: it answered the first one with the whole " +
                $"file{(declared > 0 ? $" ({declared} bytes)" : "")}. TorchSerial reads only the parts it needs and " +
                "does not pull a whole file silently; download it first (Invoke-WebRequest -OutFile) and read the " +
                "local copy.");
    }

    /// <summary>Records what identifies the file: later ranges must come from the same one.</summary>
    private void Pin(HttpResponseMessage response)
    {
        _etag = response.Headers.ETag?.ToString();
        var modified = response.Content.Headers.LastModified;
        // If-Range needs a strong validator; a weak ETag is still compared, but the date (when sent) is the condition.
        _validator = response.Headers.ETag is { IsWeak: false } strong ? strong.ToString()
            : modified?.ToString("R");
        // The Hub's storage names files by SHA-256 (its ETag is the linked one); any other server's ETag is opaque.
        if (_address.IsHub && Sha256 is null && Normalise(_etag) is { Length: 64 } hex && hex.All(Uri.IsHexDigit))
            Sha256 = hex.ToLowerInvariant();
    }

    /// <summary>One range, whatever it takes: retried on transient failures, resumed where a body was cut, resolved
    /// again from the address when a signed location expires.</summary>
    private void Fetch(long offset, Span<byte> destination)
    {
        int done = 0, failures = 0;
        bool resolvedAgain = false;
        while (done < destination.Length)
        {
            using var timeout = Timeout();
            HttpResponseMessage response;
            try { response = Send(offset + done, offset + destination.Length - 1, conditional: true, timeout.Token); }
            catch (Exception ex) when (Transient(ex))
            {
                Backoff(failures++, null, ex);
                continue;
            }
            using (response)
            {
                int status = (int)response.StatusCode;
                if (status == 206)
                {
                    CheckSame(response, offset + done, offset + destination.Length - 1);
                    bool complete = ReadBody(response, destination[done..], timeout, out int got);
                    done += got;
                    if (got > 0) failures = 0; // progress: a flaky link gets its retries back, as huggingface_hub does
                    if (!complete && done < destination.Length) Backoff(failures++, null, null);
                    continue;
                }
                if (status == 200 || status == 412)
                {
                    if (status == 412 || Changed(response))
                        throw Changed($"the server now serves a different version (ETag {_etag} → " +
                            $"{response.Headers.ETag})");
                    throw new TorchSerialException(ErrorIds.RemoteRangeNotSupported, ErrorKind.NotImplemented,
                        $"The server of {_address.Describe()} stopped honouring range requests: it answered one with " +
                            "the whole file. Nothing more is read from it.");
                }
                if (status is 401 or 403 or 410 && !resolvedAgain && _location != _address.Url)
                {
                    // A signed storage location that expired: ask the address again where the bytes are now.
                    resolvedAgain = true;
                    lock (_windows) _location = _address.Url;
                    continue;
                }
                if (status is 429 or >= 500 and < 600)
                {
                    Backoff(failures++, response, null);
                    continue;
                }
                throw StatusError(response);
            }
        }
    }

    private HttpResponseMessage Send(long first, long last, bool conditional, CancellationToken ct)
    {
        Uri url;
        lock (_windows) url = _location;
        for (int hops = 0; ; hops++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            request.Headers.Range = new RangeHeaderValue(first, last);
            request.Headers.AcceptEncoding.ParseAdd("identity");
            if (conditional && _validator is not null) request.Headers.TryAddWithoutValidation("If-Range", _validator);
            // The token goes to the address's own origin only: never to a CDN or any host a redirect names.
            if (_token is not null && RemoteAddress.SameOrigin(url, _address.Url))
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _token);
            Interlocked.Increment(ref _requests);
            HttpResponseMessage response;
            try { response = _client.Send(request, HttpCompletionOption.ResponseHeadersRead, ct); }
            catch (HttpRequestException ex) when (ex.InnerException is AuthenticationException)
            {
                // Not a passing fault: retrying cannot make the certificate acceptable.
                throw new TorchSerialException(ErrorIds.RemoteRequestFailed, ErrorKind.SecurityError,
                    $"Reading {_address.Describe()} failed: the TLS connection to {url.Authority} could not be " +
                        $"established ({ex.InnerException.Message}). For a server whose certificate is self-signed " +
                        "on purpose, add -SkipCertificateCheck.", ex);
            }
            NoteHub(response);
            int status = (int)response.StatusCode;
            if (status is not (301 or 302 or 303 or 307 or 308))
            {
                lock (_windows) _location = url;
                return response;
            }
            var location = response.Headers.Location;
            response.Dispose();
            if (location is null) throw Invalid($"it answered {status} with no Location to go to");
            var next = location.IsAbsoluteUri ? location : new Uri(url, location);
            if (next.Scheme != Uri.UriSchemeHttps && next.Scheme != Uri.UriSchemeHttp)
                throw Redirect($"to '{next.Scheme}:', which is not HTTP");
            if (url.Scheme == Uri.UriSchemeHttps && next.Scheme == Uri.UriSchemeHttp)
                throw Redirect($"from https to plain http ({next.GetLeftPart(UriPartial.Authority)})");
            if (hops >= MaxRedirects) throw Redirect($"more than {MaxRedirects} times");
            url = next;
        }
    }

    /// <summary>The Hub's headers on its answer (the redirect itself, for files in LFS or Xet): the linked SHA-256
    /// pins the file across re-resolutions, the commit names what a branch resolved to.</summary>
    private void NoteHub(HttpResponseMessage response)
    {
        if (Header(response, "X-Repo-Commit") is { Length: > 0 } commit) Commit ??= commit;
        if (Normalise(Header(response, "X-Linked-Etag")) is not { Length: > 0 } linked) return;
        if (Sha256 is null && linked.Length == 64 && linked.All(Uri.IsHexDigit))
        {
            Sha256 = linked.ToLowerInvariant();
            return;
        }
        if (Sha256 is not null && !string.Equals(Sha256, linked, StringComparison.OrdinalIgnoreCase))
            throw Changed($"the Hub now links a different file (SHA-256 {Sha256} → {linked})");
    }

    private void CheckSame(HttpResponseMessage response, long first, long last)
    {
        var range = ContentRange.Parse(Header(response, "Content-Range"));
        if (range is { } r && r.Total != Length)
            throw Changed($"its size changed ({Length} → {r.Total} bytes)");
        if (Changed(response)) throw Changed($"its ETag changed ({_etag} → {response.Headers.ETag})");
        if (range is not { } got || got.First != first || got.Last != last)
            throw Invalid($"it answered the range {first}-{last} with '{Header(response, "Content-Range")}'");
    }

    private bool Changed(HttpResponseMessage response)
    {
        var etag = response.Headers.ETag?.ToString();
        if (_etag is not null && etag is not null) return etag != _etag;
        var modified = response.Content.Headers.LastModified?.ToString("R");
        return _etag is null && _validator is not null && modified is not null && modified != _validator;
    }

    /// <summary>Reads the body into <paramref name="destination"/>; false when the connection was cut (or timed out)
    /// before it was full. <paramref name="got"/> counts what did arrive.</summary>
    private bool ReadBody(HttpResponseMessage response, Span<byte> destination, CancellationTokenSource timeout,
        out int got)
    {
        got = 0;
        using var stop = timeout.Token.Register(response.Dispose); // a stalled body unblocks when its time is up
        try
        {
            using var body = response.Content.ReadAsStream(timeout.Token);
            while (got < destination.Length)
            {
                int n = body.Read(destination[got..]);
                if (n == 0) return false;
                got += n;
                Interlocked.Add(ref _received, n);
                timeout.CancelAfter(_options.Timeout);
            }
            return true;
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or HttpRequestException
            or OperationCanceledException)
        {
            if (_stop.IsCancellationRequested) throw Stopped(ex);
            return false;
        }
    }

    private CancellationTokenSource Timeout()
    {
        if (_stop.IsCancellationRequested) throw Stopped(null);
        var cts = CancellationTokenSource.CreateLinkedTokenSource(_stop);
        cts.CancelAfter(_options.Timeout);
        return cts;
    }

    private bool Transient(Exception ex)
    {
        if (_stop.IsCancellationRequested) throw Stopped(ex);
        return ex is HttpRequestException or IOException or OperationCanceledException;
    }

    /// <summary>Waits before try <paramref name="failures"/> + 1, as the server's Retry-After asks or doubling from
    /// <see cref="RemoteOptions.RetryDelay"/>; past <see cref="RemoteOptions.MaxRetries"/> it fails the read.</summary>
    private void Backoff(int failures, HttpResponseMessage? response, Exception? error)
    {
        if (failures >= _options.MaxRetries)
        {
            if (response is not null) throw StatusError(response, $" (still, after {failures + 1} tries)");
            if (error is OperationCanceledException || error is null)
                throw new TorchSerialException(ErrorIds.RemoteTimeout, ErrorKind.ResourceUnavailable,
                    $"Reading {_address.Describe()} failed: the server sent nothing for " +
                        $"{_options.Timeout.TotalSeconds:0.#} s, or cut the connection, {failures + 1} times in a row.",
                    error);
            throw new TorchSerialException(ErrorIds.RemoteRequestFailed, ErrorKind.ResourceUnavailable,
                $"Reading {_address.Describe()} failed after {failures + 1} tries: {error.Message}", error);
        }
        var wait = RetryAfter(response) ?? _options.RetryDelay * Math.Pow(2, failures);
        if (wait > _options.MaxRetryWait)
            throw StatusError(response!, $" and asks to wait {wait.TotalSeconds:0} s, longer than " +
                $"{_options.MaxRetryWait.TotalSeconds:0} s");
        try { Task.Delay(wait, _stop).GetAwaiter().GetResult(); }
        catch (OperationCanceledException ex) { throw Stopped(ex); }
    }

    private static TimeSpan? RetryAfter(HttpResponseMessage? response)
    {
        var retry = response?.Headers.RetryAfter;
        if (retry?.Delta is { } delta) return delta;
        if (retry?.Date is { } date) return date - DateTimeOffset.UtcNow is var d && d > TimeSpan.Zero ? d
            : TimeSpan.Zero;
        return null;
    }

    private TorchSerialException StatusError(HttpResponseMessage response, string more = "")
    {
        int status = (int)response.StatusCode;
        string code = Header(response, "X-Error-Code") is { Length: > 0 } c ? $", {c}" : "";
        string answer = $"{status} {response.ReasonPhrase}{code}{more}";
        string repo = _address.IsHub ? $"the Hub repo '{_address.RepoTypePrefix}{_address.Repo}'" : "it";
        return status switch
        {
            404 => new TorchSerialException(ErrorIds.RemoteNotFound, ErrorKind.ObjectNotFound,
                $"There is no {_address.Describe()} on the server ({answer}){(_address.IsHub ? ": check the repo, " +
                    "the revision and the file's path" : "")}."),
            401 or 403 => new TorchSerialException(ErrorIds.RemoteAccessDenied, ErrorKind.SecurityError,
                $"Reading {_address.Describe()} was refused ({answer}): " + (_token is null
                    ? (code.Contains("RepoNotFound") ? $"{repo} does not exist, or " : $"{repo} ") +
                        "needs a token (it is private or gated); pass -Token, or set HF_TOKEN for the Hub."
                    : code.Contains("GatedRepo") ? $"{repo} is gated; accept its conditions on the Hub with the " +
                        "account this token belongs to."
                    : "the token was not accepted for it.")),
            _ => new TorchSerialException(ErrorIds.RemoteRequestFailed, ErrorKind.ResourceUnavailable,
                $"Reading {_address.Describe()} failed: the server answered {answer}."),
        };
    }

    private TorchSerialException Changed(string what) => new(ErrorIds.CheckpointChanged, ErrorKind.InvalidData,
        $"The remote file {_address.Describe()} changed after it was opened: {what}. Its data can no longer be " +
            "trusted to belong to what was read before; load it again.");

    private TorchSerialException Invalid(string what) => new(ErrorIds.RemoteResponseInvalid, ErrorKind.InvalidData,
        $"The server of {_address.Describe()} gave an answer that cannot be used: {what}.");

    private TorchSerialException Redirect(string what) => new(ErrorIds.RemoteRedirectRefused,
        ErrorKind.SecurityError, $"Reading {_address.Describe()} was stopped: the server redirected {what}.");

    private TorchSerialException Stopped(Exception? inner) => new(ErrorIds.Stopped, ErrorKind.OperationStopped,
        $"Reading {_address.Describe()} was cancelled.", inner);

    private static string? Header(HttpResponseMessage response, string name)
        => response.Headers.TryGetValues(name, out var v) || response.Content.Headers.TryGetValues(name, out v)
            ? string.Join(",", v) : null;

    private static string? Normalise(string? etag)
        => etag?.Trim().Replace("W/", "", StringComparison.Ordinal).Trim('"');
}
