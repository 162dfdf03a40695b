using TorchSerial.Errors;
using TorchSerial.Torch;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.Loader;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;

namespace TorchSerial.Devices;

/// <summary>
/// The process's ILGPU context and accelerators, created on first use (context creation costs ~100 ms).
/// Devices are a property of the machine, so this is process-wide; it holds no per-load state.
/// Every device is identified by its <see cref="AcceleratorType"/>, never by position: ILGPU falls back
/// to a CPU device silently when CUDA is missing, and that must never be mistaken for a GPU.
/// </summary>
internal static class Accelerators
{
    public const string IlgpuCpuName = DeviceNames.IlgpuCpu;
    private static readonly object Gate = new();
    private static Context? _context;
    private static Device? _cpuDevice;
    private static List<Device> _cudaDevices = new();
    private static readonly Dictionary<string, Accelerator> Created = new(StringComparer.Ordinal);
    private static string? _failure;

    public static int CudaCount { get { Init(); return _cudaDevices.Count; } }

    public static bool IlgpuCpuAvailable { get { Init(); return _cpuDevice is not null; } }

    public static IReadOnlyList<DeviceInfo> List()
    {
        Init();
        var ram = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        var list = new List<DeviceInfo>
        {
            new() { Name = "cpu", Kind = DeviceType.Host, IsAvailable = true, MemoryBytes = ram,
                Description = "host memory" },
            new()
            {
                Name = IlgpuCpuName, Kind = DeviceType.IlgpuCpu, IsAvailable = _cpuDevice is not null,
                    MemoryBytes = _cpuDevice is null ? 0 : ram,
                Description = _cpuDevice is null ? $"ILGPU CPU accelerator (unavailable: {_failure})" : "ILGPU CPU accelerator",
            },
        };
        for (int i = 0; i < _cudaDevices.Count; i++)
            list.Add(new DeviceInfo { Name = $"cuda:{i}", Kind = DeviceType.Cuda, IsAvailable = true, MemoryBytes = _cudaDevices[i].MemorySize, Description = _cudaDevices[i].Name });
        if (_cudaDevices.Count == 0)
            list.Add(new DeviceInfo { Name = "cuda", Kind = DeviceType.Cuda, IsAvailable = false,
                Description = "no CUDA device found by ILGPU" });
        return list;
    }

    /// <summary>The accelerator behind a device name ('ilgpu-cpu' or 'cuda:N'); created once and kept.</summary>
    public static Accelerator Get(string device)
    {
        Init();
        lock (Gate)
        {
            if (Created.TryGetValue(device, out var acc)) return acc;
            Device? d = device == IlgpuCpuName ? _cpuDevice
                : device.StartsWith("cuda:", StringComparison.Ordinal) && int.TryParse(device.AsSpan(5), out int i)
                    && i >= 0 && i < _cudaDevices.Count ? _cudaDevices[i]
                : null;
            if (d is null)
                throw new TorchSerialException(ErrorIds.DeviceUnavailable, ErrorKind.ResourceUnavailable, $"The device '{device}' is not available here. Get-TorchDevice lists the devices that are.");
            acc = d.CreateAccelerator(_context!);
            // Guard against ILGPU's silent CPU fallback: a CUDA name must get a CUDA accelerator.
            var expected = device == IlgpuCpuName ? AcceleratorType.CPU : AcceleratorType.Cuda;
            if (acc.AcceleratorType != expected)
            {
                acc.Dispose();
                throw new TorchSerialException(ErrorIds.DeviceUnavailable, ErrorKind.ResourceUnavailable,
                    $"ILGPU returned a {acc.AcceleratorType} accelerator for '{device}', which needs {expected}; " +
                        "refusing to place data on the wrong device.");
            }
            Created[device] = acc;
            return acc;
        }
    }

    private static void Init()
    {
        if (_context is not null || _failure is not null) return;
        lock (Gate)
        {
            if (_context is not null || _failure is not null) return;
            try
            {
                CudaLibrary.InstallResolver();
                var context = Context.Create(b => b.DefaultCPU().Cuda());
                _cpuDevice = context.Devices.FirstOrDefault(d => d.AcceleratorType == AcceleratorType.CPU);
                _cudaDevices = context.Devices.Where(d => d.AcceleratorType == AcceleratorType.Cuda).ToList();
                _context = context;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                _failure = ex.Message;
            }
        }
    }
}

/// <summary>
/// ILGPU imports the native library 'cuda', which the loader probes as libcuda.so; many Linux hosts
/// only have the versioned libcuda.so.1. This maps the one to the other, once, in the load context ILGPU lives in
/// (the module loads it into a private one; a plain .NET host, into the default one).
/// </summary>
internal static class CudaLibrary
{
    private static int _installed;

    public static void InstallResolver()
    {
        if (!OperatingSystem.IsLinux() || Interlocked.Exchange(ref _installed, 1) == 1) return;
        var context = AssemblyLoadContext.GetLoadContext(typeof(ILGPU.Context).Assembly) ?? AssemblyLoadContext.Default;
        context.ResolvingUnmanagedDll += Resolve;
    }

    private static IntPtr Resolve(Assembly assembly, string name)
        => name is "cuda" or "libcuda" or "libcuda.so"
            && NativeLibrary.TryLoad("libcuda.so.1", out var handle) ? handle : IntPtr.Zero;
}
