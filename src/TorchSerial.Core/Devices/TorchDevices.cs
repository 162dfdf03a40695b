namespace TorchSerial.Devices;

/// <summary>The devices of this machine that storages can be placed on.</summary>
public static class TorchDevices
{
    /// <summary>'cpu', 'ilgpu-cpu', and each CUDA device ILGPU finds ('cuda' unavailable when there is none).</summary>
    public static IReadOnlyList<DeviceInfo> List() => Accelerators.List();
}
