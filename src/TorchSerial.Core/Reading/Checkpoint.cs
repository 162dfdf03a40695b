namespace TorchSerial;

/// <summary>A loaded checkpoint: the object torch.load would return and the tensors inside it.</summary>
public sealed class Checkpoint
{
    internal Checkpoint(string? path, LoadedGraph graph, IReadOnlyList<Tensor> tensors)
    {
        Path = path;
        Format = graph.Format;
        Root = graph.Root;
        Storages = graph.Storages;
        Records = graph.Records;
        ByteOrder = graph.ByteOrder;
        FormatVersion = graph.FormatVersion;
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
}
