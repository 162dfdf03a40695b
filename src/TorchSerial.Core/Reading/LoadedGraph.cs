using TorchSerial.Buffers;
using TorchSerial.Containers;
using TorchSerial.Python;
using TorchSerial.Tensors;
namespace TorchSerial.Reading;

/// <summary>What a container source hands back: the unpickled object and the storages it references.</summary>
internal sealed record LoadedGraph(CheckpointFormat Format, object? Root, IReadOnlyList<Storage> Storages,
    IReadOnlyList<string> Records)
{
    public string ByteOrder { get; init; } = "little";
    public long? FormatVersion { get; init; }

    /// <summary>The object pickle's protocol (its PROTO opcode; 1 when it has none).</summary>
    public int PickleProtocol { get; init; } = 2;

    /// <summary>String metadata the container keeps beside the object (safetensors' <c>__metadata__</c>, a set's index
    /// metadata).</summary>
    public PyDict? Metadata { get; init; }

    /// <summary>The tensors, when the container names them itself (TorchScript's state_dict); null to walk the object
    /// for them.</summary>
    public List<Tensor>? Tensors { get; init; }

    /// <summary>A TorchScript archive's tensor constants (the code's <c>CONSTANTS.c0</c>, …); empty for other
    /// containers.</summary>
    public IReadOnlyList<Tensor> Constants { get; init; } = Array.Empty<Tensor>();
}
