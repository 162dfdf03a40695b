using TorchSerial.Devices;
using TorchSerial.Tensors;
using Xunit;

namespace TorchSerial.Tests;

/// <summary>The adapter merge's low-rank product in the ILGPU kernel (on ILGPU's CPU accelerator here) against the
/// host's SIMD lanes: the same float64 operations in the same order, so the same bits, for runs that start and end
/// mid-row, a rank of 1 (a bias) and ranks past the vector width.</summary>
public class LowRankProductTests
{
    [Theory]
    [InlineData(7, 13, 1, 0, 91)]
    [InlineData(64, 300, 16, 0, 64 * 300)]
    [InlineData(64, 300, 16, 1234, 5000)]
    [InlineData(33, 1, 3, 5, 20)]
    public void The_kernel_gives_the_hosts_bits(int rows, int columns, int rank, int first, int count)
    {
        var random = new Random(rows * 31 + rank);
        double[] Fill(int n) => Enumerable.Range(0, n).Select(_ => (random.NextDouble() - 0.5) * 0.03).ToArray();
        var left = Fill(rows * rank);
        var right = Fill(rank * columns);
        var w = Fill(count);
        var onHost = w.ToArray();
        var onDevice = w.ToArray();
        LowRankProduct.Host.AddScaled(onHost, first, columns, left, right, rank, 2.5);
        new DeviceLowRankProduct("ilgpu-cpu").AddScaled(onDevice, first, columns, left, right, rank, 2.5);
        Assert.Equal(onHost.Select(BitConverter.DoubleToInt64Bits), onDevice.Select(BitConverter.DoubleToInt64Bits));
        // And both are the plain formula, element by element.
        for (int k = 0; k < count; k++)
        {
            long e = first + k, row = e / columns, column = e % columns;
            double acc = 0;
            for (int j = 0; j < rank; j++) acc += left[row * rank + j] * right[j * columns + column];
            Assert.Equal(w[k] + 2.5 * acc, onHost[k]);
        }
    }
}
