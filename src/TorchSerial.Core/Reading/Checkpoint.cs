using TorchSerial.Buffers;
using TorchSerial.Containers;
using TorchSerial.Tensors;
namespace TorchSerial.Reading;

/// <summary>A loaded checkpoint: the object torch.load would return and the tensors inside it.</summary>
public sealed class Checkpoint : IDisposable
{
    private readonly IDisposable? _owner;

    internal Checkpoint(string? path, LoadedGraph graph, IReadOnlyList<Tensor> tensors, IDisposable? owner)
    {
        _owner = owner;
        Path = path;
        Format = graph.Format;
        Root = graph.Root;
        Storages = graph.Storages;
        Records = graph.Records;
        ByteOrder = graph.ByteOrder;
        FormatVersion = graph.FormatVersion;
        PickleProtocol = graph.PickleProtocol;
        Tensors = tensors;
    }

    public string? Path { get; }
    public CheckpointFormat Format { get; }

    /// <summary>Exactly what torch.load returns, in TorchSerial's object model.</summary>
    public object? Root { get; }

    /// <summary>Every tensor, depth-first in file order, each named by its key path.</summary>
    public IReadOnlyList<Tensor> Tensors { get; }

    /// <summary>Distinct storages in the order the pickle first references them.</summary>
    public IReadOnlyList<Storage> Storages { get; }

    /// <summary>Record (zip) or member (tar) names; empty for the legacy stream.</summary>
    public IReadOnlyList<string> Records { get; }

    public string ByteOrder { get; }
    public long? FormatVersion { get; }

    /// <summary>The pickle protocol the object was saved with (torch's <c>pickle_protocol</c>).</summary>
    public int PickleProtocol { get; }

    /// <summary>True when tensor data is read on first use from the still-open file (see <see cref="CheckpointReader.Open"/>).</summary>
    public bool IsLazy => _owner is not null;

    /// <summary>Closes the file of a lazy checkpoint; data not read by then can no longer be (CheckpointClosed).</summary>
    public void Dispose() => _owner?.Dispose();
}
