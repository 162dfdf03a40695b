using TorchSerial.Errors;

namespace TorchSerial.Buffers;

/// <summary>The storage of a meta tensor: torch's meta device has shapes and dtypes but no bytes anywhere.</summary>
internal sealed class NoDataBuffer : StorageBuffer
{
    public override long Length => 0;

    public override string Device => "meta";

    public override bool IsResident => false;

    public override void Read(long offset, Span<byte> destination)
    {
        if (destination.Length > 0)
            throw Fail.Unsupported(ErrorIds.MetaTensorHasNoData, "A meta tensor has no data to read.");
    }
}
