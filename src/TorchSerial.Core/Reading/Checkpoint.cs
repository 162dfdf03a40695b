using TorchSerial.Buffers;
using TorchSerial.Containers;
using TorchSerial.Python;
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
        Metadata = graph.Metadata;
        Constants = graph.Constants;
        Tensors = tensors;
        if (path is not null)
            foreach (var t in tensors.Concat(Constants)) t.SourceFile ??= path;
    }

    public string? Path { get; }
    public CheckpointFormat Format { get; }

    /// <summary>Exactly what torch.load returns, in TorchSerial's object model.</summary>
    public object? Root { get; }

    /// <summary>
    /// Every tensor, depth-first in file order, each named by its key path (for a TorchScript archive, its
    /// state_dict; for a sharded set, in the index's order).
    /// </summary>
    public IReadOnlyList<Tensor> Tensors { get; }

    /// <summary>A TorchScript archive's tensor constants, named c0, c1, … as its code calls them; empty
    /// otherwise.</summary>
    public IReadOnlyList<Tensor> Constants { get; }

    /// <summary>Distinct storages in the order the pickle first references them.</summary>
    public IReadOnlyList<Storage> Storages { get; }

    /// <summary>Record (zip) or member (tar) names; empty for the legacy stream.</summary>
    public IReadOnlyList<string> Records { get; }

    public string ByteOrder { get; }
    public long? FormatVersion { get; }

    /// <summary>The pickle protocol the object was saved with (torch's <c>pickle_protocol</c>); 0 for containers
    /// without a pickle.</summary>
    public int PickleProtocol { get; }

    /// <summary>
    /// The container's own metadata: safetensors' <c>__metadata__</c> (string to string), or the <c>metadata</c> of a
    /// sharded set's index (with <c>total_size</c>); null for torch.save files.
    /// </summary>
    public PyDict? Metadata { get; }

    /// <summary>
    /// Other objects the container holds beside <see cref="Root"/>, selected by their name as a sub-object (<c>-Key
    /// module</c>: a DeepSpeed checkpoint's 16-bit module next to the fp32 weights rebuilt as its root).
    /// </summary>
    public IReadOnlyDictionary<string, object?> Alternates { get; internal set; } =
        new Dictionary<string, object?>();

    /// <summary>True when tensor data is read on first use from the still-open file (see <see
    /// cref="CheckpointReader.Open"/>).</summary>
    public bool IsLazy => _owner is not null;

    /// <summary>Closes the file of a lazy checkpoint; data not read by then can no longer be
    /// (CheckpointClosed).</summary>
    public void Dispose() => _owner?.Dispose();

    /// <summary>
    /// Reads the bytes of <paramref name="tensors"/>' storages now, on every core, and no others: an eager load of one
    /// sub-object (-Key) of a lazily opened checkpoint reads only what it keeps (of a remote file, only those ranges).
    /// Progress and cancellation as <see cref="CheckpointReader.Load(string, LoadOptions?, CancellationToken)"/>.
    /// </summary>
    public void LoadTensors(IEnumerable<Tensor> tensors, LoadOptions? options = null,
        CancellationToken cancellationToken = default)
        => CheckpointReader.LoadAll(tensors.Select(t => t.Storage).Distinct(ReferenceEqualityComparer.Instance)
            .Cast<Storage>().ToList(), options ?? new LoadOptions(), cancellationToken);
}
