using TorchSerial.Reading;
using TorchSerial.Writing;
using Xunit;

namespace TorchSerial.Tests;

/// <summary>
/// Saving what was loaded from a torch 1.13 file, in torch 1.13's record set, reproduces torch's own
/// file byte for byte: headers, alignment padding, descriptors, central directory, trailer and data.pkl.
/// </summary>
public class WriterByteExactTests
{
    [Theory]
    [InlineData("params.pt")]
    [InlineData("state_dict.pt")]
    [InlineData("views.pt")]
    [InlineData("dtypes.pt")]
    [InlineData("dict_order.pt")]
    [InlineData("checkpoint.pt")]
    [InlineData("quantized.pt")]
    public void Round_trip_matches_torch_1_13_byte_for_byte(string file)
    {
        var original = File.ReadAllBytes(Fixtures.Torch(file));
        var ckpt = CheckpointReader.Load(Fixtures.Torch(file));
        using var ms = new MemoryStream();
        CheckpointWriter.Save(ckpt.Root, ms, new SaveOptions { Layout = SaveLayout.ZipTorch1, ArchiveName = Path.GetFileNameWithoutExtension(file) });
        var written = ms.ToArray();
        int firstDiff = Enumerable.Range(0, Math.Min(original.Length, written.Length)).FirstOrDefault(i => original[i] != written[i], -1);
        Assert.True(firstDiff < 0 && original.Length == written.Length,
            $"{file}: {written.Length} bytes vs torch's {original.Length}; first difference at {firstDiff}");
    }
}
