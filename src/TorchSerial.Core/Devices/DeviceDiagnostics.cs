using System.Diagnostics;

namespace TorchSerial.Devices;

/// <summary>Raw ILGPU transfer timings, the baseline GpuCheck compares placement against.</summary>
public static class DeviceDiagnostics
{
    /// <summary>Seconds to copy <paramref name="bytes"/> into a fresh ILGPU buffer on <paramref name="device"/>
    /// (allocation excluded).</summary>
    public static double MeasureRawUpload(string device, byte[] bytes)
    {
        var accelerator = Accelerators.Get(device);
        using var buffer = accelerator.Allocate1D<byte>(bytes.Length);
        accelerator.Synchronize();
        var clock = Stopwatch.StartNew();
        ILGPU.Runtime.ArrayViewExtensions.CopyFromCPU(buffer.View.AsContiguous(), (ReadOnlySpan<byte>)bytes);
        accelerator.Synchronize();
        return clock.Elapsed.TotalSeconds;
    }
}
