using TorchSerial.Buffers;
using TorchSerial.Containers;
using TorchSerial.Tensors;
namespace TorchSerial.Reading;

/// <summary>What a container source hands back: the unpickled object and the storages it references.</summary>
internal sealed record LoadedGraph(CheckpointFormat Format, object? Root, IReadOnlyList<Storage> Storages, IReadOnlyList<string> Records)
{
    public string ByteOrder { get; init; } = "little";
    public long? FormatVersion { get; init; }

    /// <summary>The object pickle's protocol (its PROTO opcode; 1 when it has none).</summary>
    public int PickleProtocol { get; init; } = 2;
}
