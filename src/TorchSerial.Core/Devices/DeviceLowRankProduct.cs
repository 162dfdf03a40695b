using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Runtime;
using TorchSerial.Tensors;

namespace TorchSerial.Devices;

/// <summary>
/// An adapter merge's low-rank product and its fused add on an ILGPU accelerator (ILGPU's CPU accelerator in tests,
/// CUDA where present): one thread per element of the block adds s·Σⱼ L[row, j]·R[j, column] to W's widened value,
/// j in order, a multiply then an add in float64, as the host does, so the bits agree on a conforming device
/// (build.ps1 -Task GpuCheck compares them on CUDA). L and R go to the device once per adapter module and stay while
/// the merge's arrays live; each block of W's values goes there and back. The one rounding to W's dtype stays on the
/// host, with the cast the host path uses.
/// </summary>
public sealed class DeviceLowRankProduct : LowRankProduct
{
    private readonly Accelerator _accelerator;
    private readonly Action<Index1D, ArrayView<double>, ArrayView<double>, ArrayView<double>, int, long, long,
        double> _kernel;
    private readonly ConditionalWeakTable<double[], MemoryBuffer1D<double, Stride1D.Dense>> _uploaded = new();

    /// <param name="device">'ilgpu-cpu' or 'cuda:N'; an unavailable device fails as a placement would.</param>
    public DeviceLowRankProduct(string device)
    {
        Device = device;
        _accelerator = Accelerators.Get(device);
        _kernel = _accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<double>, ArrayView<double>,
            ArrayView<double>, int, long, long, double>(Update);
    }

    public override string Device { get; }

    public override void AddScaled(Span<double> values, long first, long columns, double[] left, double[] right,
        int rank, double scale)
    {
        if (values.Length == 0) return;
        lock (_uploaded)
        {
            var l = Uploaded(left);
            var r = Uploaded(right);
            using var block = _accelerator.Allocate1D<double>(values.Length);
            block.View.CopyFromCPU(ref values[0], values.Length);
            _kernel(values.Length, block.View, l.View, r.View, rank, columns, first, scale);
            _accelerator.Synchronize();
            block.View.CopyToCPU(ref values[0], values.Length);
        }
    }

    private MemoryBuffer1D<double, Stride1D.Dense> Uploaded(double[] matrix)
    {
        if (_uploaded.TryGetValue(matrix, out var buffer)) return buffer;
        buffer = _accelerator.Allocate1D(matrix);
        _uploaded.Add(matrix, buffer);
        return buffer;
    }

    /// <summary>One element: e = first + k, at (e / columns, e % columns).</summary>
    private static void Update(Index1D k, ArrayView<double> values, ArrayView<double> left, ArrayView<double> right,
        int rank, long columns, long first, double scale)
    {
        long e = first + k;
        long row = e / columns, column = e % columns;
        double acc = 0;
        for (int j = 0; j < rank; j++) acc += left[row * rank + j] * right[j * columns + column];
        values[k] += scale * acc;
    }
}
