namespace TorchSerial.Python;

/// <summary>A <c>torch.device</c> object found inside a checkpoint, e.g. <c>cuda:1</c>.</summary>
public sealed class TorchDevice
{
    public TorchDevice(string type, long? index) { Type = type; Index = index; }
    public string Type { get; }
    public long? Index { get; }
    public override string ToString() => Index is { } i ? $"{Type}:{i}" : Type;
}
