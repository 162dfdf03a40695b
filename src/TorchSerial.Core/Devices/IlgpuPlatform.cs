using TorchSerial.Buffers;
using TorchSerial.Torch;

namespace TorchSerial.Devices;

/// <summary>The machine's devices as ILGPU sees them: its CPU accelerator and every CUDA device.</summary>
public sealed class IlgpuPlatform : DevicePlatform
{
    public static IlgpuPlatform Instance { get; } = new();

    private IlgpuPlatform() { }

    internal override int CudaCount => Accelerators.CudaCount;
    internal override bool HasIlgpuCpu => Accelerators.IlgpuCpuAvailable;
    internal override StorageBuffer Place(string device, StorageBuffer host) => DeviceBuffer.Upload(device, host);
}
