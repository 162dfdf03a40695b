using TorchSerial.Buffers;
using TorchSerial.Containers;
using TorchSerial.Python;
using TorchSerial.Reading;
using Xunit;

namespace TorchSerial.Tests;

/// <summary>Every checkpoint written by real torch loads with exactly the values torch reported.</summary>
public class TorchWrittenFixtureTests
{
    public static IEnumerable<object[]> Checkpoints()
        => Fixtures.Expected.GetProperty("checkpoints").EnumerateObject().Select(p => new object[] { p.Name });

    [Theory]
    [MemberData(nameof(Checkpoints))]
    public void Loads_exactly_what_torch_reports(string file)
    {
        var expected = Fixtures.Expected.GetProperty("checkpoints").GetProperty(file);
        var ckpt = CheckpointReader.Load(Fixtures.Torch(file));
        ExpectedTensors.AssertMatch(expected.GetProperty("tensors"), ckpt.Tensors);
        if (expected.TryGetProperty("top_keys", out var keys))
        {
            var root = Assert.IsType<PyDict>(ckpt.Root);
            Assert.Equal(keys.EnumerateArray().Select(k => k.GetString()), ExpectedTensors.Names(root));
            Assert.Equal(expected.GetProperty("top_type").GetString() == "OrderedDict", root.IsOrderedDict);
        }
        Assert.Equal(file.StartsWith("legacy", StringComparison.Ordinal) ? CheckpointFormat.LegacyStream : CheckpointFormat.Zip, ckpt.Format);
    }

    [Fact]
    public void Zip_records_are_listed_without_the_root_folder()
    {
        var ckpt = CheckpointReader.Load(Fixtures.Torch("params.pt"));
        Assert.Equal(new[] { "data.pkl", "data/0", "data/1", "data/2", "version" }, ckpt.Records);
        Assert.Equal(3, ckpt.FormatVersion);
        Assert.Equal("little", ckpt.ByteOrder);
    }
}
