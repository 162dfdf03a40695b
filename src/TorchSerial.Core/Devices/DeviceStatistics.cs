using ILGPU;
using ILGPU.Runtime;
using TorchSerial.Buffers;
using TorchSerial.Tensors;

namespace TorchSerial.Devices;

/// <summary>
/// Measure-Tensor where the tensor is: a kernel on the accelerator that holds a float32 tensor (ILGPU's CPU
/// accelerator in tests, CUDA where present). Each thread reduces one contiguous run of elements twice, for the
/// counts, min, max and sums, then for the squared deviations from its run's own mean; only those per-thread
/// partials come back to the host, where they merge as the host's chunks do. Other dtypes, and views that are not
/// one contiguous run, are measured on the host.
/// </summary>
public static class DeviceStatistics
{
    private const int Fields = 10;
    private const int MaxThreads = 4096;

    private static readonly Dictionary<Accelerator, Action<Index1D, ArrayView<float>, ArrayView<double>,
        long>> Kernels = new();

    /// <summary>True when <paramref name="tensor"/> sits on an accelerator in a form the kernel reads in
    /// place.</summary>
    public static bool CanCompute(Tensor tensor) => Held(tensor) is not null && tensor.DTypeInfo == DType.Float32
        && tensor.IsContiguous;

    /// <summary>The device buffer a tensor's storage is held in: placed directly, or read once by a load that placed
    /// it.</summary>
    private static DeviceBuffer? Held(Tensor tensor) => tensor.Storage.Buffer switch
    {
        DeviceBuffer d => d,
        LazyBuffer { Resident: DeviceBuffer d } => d,
        _ => null,
    };

    public static TensorStatistics Compute(Tensor tensor)
    {
        var device = Held(tensor)
            ?? throw new ArgumentException($"Tensor '{tensor.Name}' is not held by an accelerator.", nameof(tensor));
        var accelerator = Accelerators.Get(device.Device);
        long n = tensor.NumElements;
        var total = StatisticsPartial.Empty;
        if (n > 0)
        {
            var data = device.View.SubView(tensor.StorageOffset * 4, n * 4).AsContiguous().Cast<float>();
            int threads = (int)Math.Min(MaxThreads, n);
            long perThread = (n + threads - 1) / threads;
            using var partials = accelerator.Allocate1D<double>(threads * Fields);
            Kernel(accelerator)(threads, data, partials.View, perThread);
            accelerator.Synchronize();
            var host = partials.GetAsArray1D();
            for (int t = 0; t < threads; t++)
            {
                var p = new StatisticsPartial
                {
                    Count = (long)host[t * Fields], NaN = (long)host[t * Fields + 1],
                        PositiveInfinity = (long)host[t * Fields + 2],
                    NegativeInfinity = (long)host[t * Fields + 3], Zeros = (long)host[t * Fields + 4],
                        Min = host[t * Fields + 5],
                    Max = host[t * Fields + 6], Mean = host[t * Fields + 7], M2 = host[t * Fields + 8],
                        SumSquares = host[t * Fields + 9],
                };
                total.Merge(p);
            }
        }
        return total.ToResult(tensor, device.Device);
    }

    private static Action<Index1D, ArrayView<float>, ArrayView<double>, long> Kernel(Accelerator accelerator)
    {
        lock (Kernels)
        {
            if (!Kernels.TryGetValue(accelerator, out var k))
                Kernels[accelerator] = k = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>,
                    ArrayView<double>, long>(Reduce);
            return k;
        }
    }

    /// <summary>One thread: elements [i·per, (i+1)·per) into ten partial figures.</summary>
    private static void Reduce(Index1D index, ArrayView<float> data, ArrayView<double> partials, long per)
    {
        long start = index * per;
        long end = start + per;
        if (end > data.Length) end = data.Length;
        double count = 0, nan = 0, pos = 0, neg = 0, zeros = 0, sum = 0, sq = 0;
        double min = double.PositiveInfinity, max = double.NegativeInfinity;
        for (long i = start; i < end; i++)
        {
            double v = data[i];
            count += 1;
            if (double.IsNaN(v)) { nan += 1; continue; }
            if (v == double.PositiveInfinity) pos += 1;
            if (v == double.NegativeInfinity) neg += 1;
            if (v == 0) zeros += 1;
            if (v < min) min = v;
            if (v > max) max = v;
            sum += v;
            sq += v * v;
        }
        double mean = count > 0 ? sum / count : 0;
        double m2 = 0;
        for (long i = start; i < end; i++)
        {
            double d = data[i] - mean;
            m2 += d * d;
        }
        int o = index * Fields;
        partials[o] = count;
        partials[o + 1] = nan;
        partials[o + 2] = pos;
        partials[o + 3] = neg;
        partials[o + 4] = zeros;
        partials[o + 5] = min;
        partials[o + 6] = max;
        partials[o + 7] = mean;
        partials[o + 8] = m2;
        partials[o + 9] = sq;
    }
}
