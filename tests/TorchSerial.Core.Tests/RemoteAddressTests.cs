using TorchSerial.Buffers.Remote;
using TorchSerial.Errors;
using Xunit;

namespace TorchSerial.Tests;

/// <summary>
/// Remote addresses as huggingface_hub builds them (remote-checkpoints.md §1.1: the revision percent-encoded with no
/// safe characters, the path keeping '/'), and the Content-Range forms servers really send (§3.4).
/// </summary>
public class RemoteAddressTests : IDisposable
{
    private readonly string? _endpoint = Environment.GetEnvironmentVariable("HF_ENDPOINT");

    public RemoteAddressTests() => Environment.SetEnvironmentVariable("HF_ENDPOINT", null);

    public void Dispose() => Environment.SetEnvironmentVariable("HF_ENDPOINT", _endpoint);

    [Theory]
    [InlineData("hf://org/model/pytorch_model.bin", "https://huggingface.co/org/model/resolve/main/pytorch_model.bin")]
    [InlineData("hf://org/model@v1.0/sub dir/model.safetensors",
        "https://huggingface.co/org/model/resolve/v1.0/sub%20dir/model.safetensors")]
    [InlineData("hf://org/model@refs%2Fpr%2F1/model.safetensors",
        "https://huggingface.co/org/model/resolve/refs%2Fpr%2F1/model.safetensors")]
    [InlineData("hf://datasets/org/data/train/part-0.bin",
        "https://huggingface.co/datasets/org/data/resolve/main/train/part-0.bin")]
    [InlineData("hf://models/org/model/a.pt", "https://huggingface.co/org/model/resolve/main/a.pt")]
    public void HubAddressesResolveAsHuggingFaceHubBuildsThem(string address, string url)
        => Assert.Equal(url, RemoteAddress.Parse(address).Url.AbsoluteUri);

    [Fact]
    public void TheEndpointComesFromHfEndpointWithoutItsTrailingSlash()
    {
        Environment.SetEnvironmentVariable("HF_ENDPOINT", "http://127.0.0.1:8080/");
        var a = RemoteAddress.Parse("hf://org/model@refs%2Fpr%2F1/x.bin");
        Assert.Equal("http://127.0.0.1:8080/org/model/resolve/refs%2Fpr%2F1/x.bin", a.Url.AbsoluteUri);
        Assert.Equal(("org/model", "refs/pr/1", "x.bin"), (a.Repo, a.Revision, a.PathInRepo));
    }

    [Theory]
    [InlineData("hf://org/model")]
    [InlineData("hf://org//x.bin")]
    [InlineData("hf://org/model/../x.bin")]
    [InlineData("hf://org/model@/x.bin")]
    [InlineData("hf://org/model@refs/../../x/y.bin")]
    [InlineData("ftp://host/x.pt")]
    [InlineData("http:///x.pt")]
    public void MalformedAddressesAreRemoteAddressInvalid(string address)
    {
        var ex = Assert.Throws<TorchSerialException>(() => RemoteAddress.Parse(address));
        Assert.Equal(ErrorIds.RemoteAddressInvalid, ex.ErrorId);
        Assert.Contains(address, ex.Message);
    }

    [Fact]
    public void ShardsResolveBesideTheirIndexAndNeverLeaveIt()
    {
        var hub = RemoteAddress.Parse("hf://org/model@v2/sub/model.safetensors.index.json");
        Assert.Equal("hf://org/model@v2/sub/model-00001-of-00002.safetensors",
            hub.Sibling("model-00001-of-00002.safetensors").Text);
        var web = RemoteAddress.Parse("https://store.example/ckpt/model.bin.index.json?sig=abc");
        Assert.Equal("https://store.example/ckpt/a%20b.bin", web.Sibling("a b.bin").Url.AbsoluteUri);
        foreach (var name in new[] { "../x.bin", "https://evil.example/x.bin", "//evil.example/x.bin", "/etc/x",
            "a/../../x.bin", @"a\x.bin" })
            Assert.Equal(ErrorIds.RemoteAddressInvalid,
                Assert.Throws<TorchSerialException>(() => web.Sibling(name)).ErrorId);
    }

    [Theory]
    [InlineData("bytes 0-99/1000", 0L, 99L, 1000L)]
    [InlineData("Bytes 10-20/30", 10L, 20L, 30L)]
    [InlineData(" bytes  5-5/6", 5L, 5L, 6L)]
    [InlineData("bytes */0", -1L, -1L, 0L)]
    public void ContentRangeFormsServersSendAreRead(string header, long first, long last, long total)
        => Assert.Equal(new ContentRange(first, last, total), ContentRange.Parse(header));

    [Theory]
    [InlineData("bytes 0-99/*")]
    [InlineData("bytes 10-5/30")]
    [InlineData("bytes 0-30/30")]
    [InlineData("items 0-1/2")]
    [InlineData("bytes -1-5/10")]
    [InlineData(null)]
    public void ContentRangesThatCannotBeTrustedAreNotRead(string? header) => Assert.Null(ContentRange.Parse(header));
}
