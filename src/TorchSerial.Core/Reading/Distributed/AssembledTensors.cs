using TorchSerial.Tensors;
using TorchSerial.Torch;

namespace TorchSerial.Reading;

/// <summary>
/// Tensors a folder saved in pieces, made through the one storage resolver: each is a storage whose bytes are its
/// pieces put together (<see cref="AssembledBuffer"/>), placed by the load's map_location like any storage a file
/// holds (DCP and DeepSpeed save from the host, so the saved location is <c>cpu</c>).
/// </summary>
internal sealed class AssembledTensors(LoadOptions options, int expected)
{
    private readonly StorageResolver _resolver = new(options.Storages(), expected);

    /// <param name="name">The tensor's name, unique in the folder (the storage's key).</param>
    /// <param name="dtype">Its dtype, which every piece has.</param>
    /// <param name="shape">Its shape.</param>
    /// <param name="layout">The shape the pieces' boxes are laid out in: <paramref name="shape"/> itself (DCP's N-D
    /// chunks), or the one dimension of its elements (ZeRO's flat partitions).</param>
    /// <param name="pieces">The saved pieces, which must cover it exactly.</param>
    /// <param name="what">How errors name the tensor and where it comes from.</param>
    public Tensor Make(string name, DType dtype, long[] shape, long[] layout, IReadOnlyList<TensorPiece> pieces,
        string what)
    {
        var bytes = new AssembledBuffer(layout, dtype, pieces, what);
        var storage = _resolver.Add(name, new StorageType(dtype, untyped: false), bytes.Length, "cpu",
            new StorageBytes(bytes, null));
        var tensor = new Tensor(storage, dtype, 0, shape, TensorGeometry.ContiguousStrides(shape));
        var files = pieces.Select(p => p.Source.SourceFile).OfType<string>().Distinct().ToList();
        if (files.Count > 0) tensor.SourceFile = string.Join("; ", files);
        return tensor;
    }
}
