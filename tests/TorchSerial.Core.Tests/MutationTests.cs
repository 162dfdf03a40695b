using Xunit;

namespace TorchSerial.Tests;

/// <summary>
/// Real checkpoints with bytes overwritten at seeded-random places: every outcome must be a clean load
/// or a TorchSerialException, never a raw .NET exception (the fuzzer of the hardening issue goes further).
/// </summary>
public class MutationTests
{
    [Theory]
    [InlineData("torch/checkpoint.pt")]
    [InlineData("torch/legacy_checkpoint.pt")]
    [InlineData("torch/views_proto4.pt")]
    [InlineData("crafted/tar_legacy.pt")]
    [InlineData("crafted/v3_dtypes.pt")]
    public void Corrupted_files_fail_cleanly(string file)
    {
        var original = File.ReadAllBytes(Path.Combine(Fixtures.Dir, file));
        var random = new Random(20261129);
        for (int round = 0; round < 2000; round++)
        {
            var bytes = (byte[])original.Clone();
            int flips = 1 + random.Next(4);
            for (int i = 0; i < flips; i++) bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
            var ex = Record.Exception(() =>
            {
                var ckpt = CheckpointReader.Load(new MemoryStream(bytes));
                foreach (var t in ckpt.Tensors) t.ToArray();
            });
            Assert.True(ex is null or TorchSerialException, $"{file} round {round}: {ex?.GetType().Name}: {ex?.Message}\n{ex?.StackTrace}");
        }
    }
}
