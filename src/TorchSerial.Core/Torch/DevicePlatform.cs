using TorchSerial.Buffers;
using TorchSerial.Errors;

namespace TorchSerial.Torch;

/// <summary>
/// What loading needs of the machine's devices: which exist, and how host bytes get onto one. The torch
/// layer decides where a storage goes (map_location, the location registry); a platform only answers these
/// questions, so the core never depends on a GPU library. <see cref="HostOnly"/> has no device but the host;
/// the devices layer provides one backed by ILGPU.
/// </summary>
public abstract class DevicePlatform
{
    /// <summary>No device but host memory: what a load uses unless given another platform.</summary>
    public static DevicePlatform HostOnly { get; } = new HostPlatform();

    /// <summary>How many CUDA devices exist ('cuda:0' … 'cuda:N-1').</summary>
    internal abstract int CudaCount { get; }

    /// <summary>Whether ILGPU's CPU accelerator ('ilgpu-cpu') can hold storages.</summary>
    internal abstract bool HasIlgpuCpu { get; }

    /// <summary>Moves host bytes to <paramref name="device"/> and returns the buffer that holds them there.</summary>
    internal abstract StorageBuffer Place(string device, StorageBuffer host);

    private sealed class HostPlatform : DevicePlatform
    {
        internal override int CudaCount => 0;
        internal override bool HasIlgpuCpu => false;

        internal override StorageBuffer Place(string device, StorageBuffer host) =>
            throw new TorchSerialException(ErrorIds.DeviceUnavailable,
            ErrorKind.ResourceUnavailable, $"The device '{device}' is not available: this load was given no device platform.");
    }
}

/// <summary>The device names TorchSerial uses besides torch's own.</summary>
public static class DeviceNames
{
    public const string Cpu = "cpu";

    /// <summary>ILGPU's CPU accelerator: a device of its own, where no GPU exists.</summary>
    public const string IlgpuCpu = "ilgpu-cpu";
}
