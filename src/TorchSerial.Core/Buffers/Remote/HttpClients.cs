using System.Net;
using System.Net.Http;

namespace TorchSerial.Buffers.Remote;

/// <summary>
/// The two HTTP clients every remote read shares (one that checks certificates, one that does not), so connections
/// are kept alive across ranges and loads. Redirects are followed by <see cref="RemoteFile"/> itself, hop by hop, so
/// it decides which host sees the token; nothing is decompressed (a range of a gzip body is no range of the file);
/// proxies come from HTTPS_PROXY/HTTP_PROXY/NO_PROXY as .NET reads them.
/// </summary>
internal static class HttpClients
{
    private static readonly Lazy<HttpClient> Checked = new(() => Create(skipCertificateCheck: false));
    private static readonly Lazy<HttpClient> Unchecked = new(() => Create(skipCertificateCheck: true));

    public static HttpClient For(RemoteOptions options) => options.SkipCertificateCheck ? Unchecked.Value
        : Checked.Value;

    private static HttpClient Create(bool skipCertificateCheck)
    {
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            UseProxy = true,
            ConnectTimeout = TimeSpan.FromSeconds(30),
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(60),
        };
        if (skipCertificateCheck)
            handler.SslOptions.RemoteCertificateValidationCallback = (_, _, _, _) => true;
        var client = new HttpClient(handler) { Timeout = System.Threading.Timeout.InfiniteTimeSpan };
        client.DefaultRequestHeaders.UserAgent.ParseAdd("TorchSerial/1.0");
        return client;
    }
}
