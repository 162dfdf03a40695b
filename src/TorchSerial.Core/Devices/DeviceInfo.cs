namespace TorchSerial.Devices;

/// <summary>What kind of memory a device is.</summary>
public enum DeviceType
{
    /// <summary>The host's memory (torch's 'cpu').</summary>
    Host,
    /// <summary>ILGPU's CPU accelerator, 'ilgpu-cpu': a device of its own, used where no GPU exists.</summary>
    IlgpuCpu,
    /// <summary>An NVIDIA GPU through ILGPU's CUDA accelerator, 'cuda:N'.</summary>
    Cuda,
}

/// <summary>A device storages can be placed on; <see cref="Name"/> is what -MapLocation takes.</summary>
public sealed class DeviceInfo
{
    public string Name { get; init; } = "";
    /// <summary>Host, IlgpuCpu or Cuda (<see cref="DeviceType"/>), by name, as JSON and CSV should show it.</summary>
    public string Type => Kind.ToString();
    internal DeviceType Kind { get; init; }
    public bool IsAvailable { get; init; }
    public long MemoryBytes { get; init; }
    public string Description { get; init; } = "";
    public override string ToString() => Name;
}
