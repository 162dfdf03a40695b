using ILGPU;
using ILGPU.Runtime;
using TorchSerial.Buffers;

namespace TorchSerial.Devices;

/// <summary>A storage's bytes in an ILGPU buffer on an accelerator, of any length. Reads copy back to the
/// host.</summary>
internal sealed class DeviceBuffer : StorageBuffer, IDisposable
{
    private readonly MemoryBuffer1D<byte, Stride1D.Dense> _buffer;
    private readonly long _length;

    private DeviceBuffer(string device, MemoryBuffer1D<byte, Stride1D.Dense> buffer, long length)
    {
        Device = device;
        _buffer = buffer;
        _length = length;
    }

    public override string Device { get; }

    /// <summary>The bytes where they are, for kernels that work on them in place.</summary>
    internal ArrayView1D<byte, Stride1D.Dense> View => _buffer.View;
    public override long Length => _length;

    /// <summary>Copies <paramref name="source"/> onto <paramref name="device"/> chunk by chunk, straight from where its
    /// bytes are.</summary>
    public static DeviceBuffer Upload(string device, StorageBuffer source,
        CancellationToken cancellationToken = default)
    {
        var accelerator = Accelerators.Get(device);
        long length = source.Length;
        var buffer = accelerator.Allocate1D<byte>(Math.Max(1, length));
        try
        {
            byte[]? scratch = null;
            for (long at = 0; at < length; at += ChunkSize)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int n = (int)Math.Min(ChunkSize, length - at);
                if (!source.TryGetSpan(at, n, out var span))
                {
                    scratch ??= GC.AllocateUninitializedArray<byte>(ChunkSize);
                    source.Read(at, scratch.AsSpan(0, n));
                    span = scratch.AsSpan(0, n);
                }
                buffer.View.SubView(at, n).AsContiguous().CopyFromCPU(span);
            }
            accelerator.Synchronize();
            GC.KeepAlive(source); // its spans may point into native memory that its finalizer frees
        }
        catch
        {
            buffer.Dispose();
            throw;
        }
        return new DeviceBuffer(device, buffer, length) { KnownCrc = source.KnownCrc };
    }

    public override void Read(long offset, Span<byte> destination)
    {
        if (destination.Length == 0) return;
        _buffer.View.SubView(offset, destination.Length).AsContiguous().CopyToCPU(destination);
    }

    public void Dispose() => _buffer.Dispose();
}
