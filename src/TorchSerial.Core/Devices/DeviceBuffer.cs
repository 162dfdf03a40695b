using ILGPU;
using ILGPU.Runtime;

namespace TorchSerial.Devices;

/// <summary>A storage's bytes in an ILGPU buffer on an accelerator. Reads copy back to the host.</summary>
internal sealed class DeviceBuffer : IDisposable
{
    private readonly MemoryBuffer1D<byte, Stride1D.Dense> _buffer;

    private DeviceBuffer(string device, MemoryBuffer1D<byte, Stride1D.Dense> buffer)
    {
        Device = device;
        _buffer = buffer;
    }

    public string Device { get; }
    public long Length => _buffer.Length;

    public static DeviceBuffer Upload(string device, ReadOnlySpan<byte> bytes)
    {
        var accelerator = Accelerators.Get(device);
        var buffer = accelerator.Allocate1D<byte>(Math.Max(1, bytes.Length));
        if (bytes.Length > 0) buffer.View.SubView(0, bytes.Length).AsContiguous().CopyFromCPU(bytes);
        accelerator.Synchronize();
        return new DeviceBuffer(device, buffer);
    }

    public byte[] Download(long length)
    {
        var host = GC.AllocateUninitializedArray<byte>(checked((int)length));
        if (length > 0) _buffer.View.SubView(0, length).AsContiguous().CopyToCPU(host.AsSpan());
        return host;
    }

    public void Dispose() => _buffer.Dispose();
}
