using TorchSerial.Errors;

namespace TorchSerial.Tensors;

/// <summary>
/// A sparse tensor as torch saves it: a layout, a dense size, and the dense tensors that hold it (COO: indices and
/// values; CSR/BSR: crow_indices, col_indices, values; CSC/BSC: ccol_indices, row_indices, values). The components
/// are ordinary tensors over the file's storages; a listing shows each under the sparse tensor's name with the
/// accessor torch gives it (<c>adj.indices</c>, <c>adj.values</c>), each pointing back here through
/// <see cref="Tensor.Sparse"/>, so the toolbox hashes, compares and casts them and a save puts them back together.
/// </summary>
public sealed class SparseTensor
{
    private static readonly Dictionary<string, string[]> ComponentNames = new(StringComparer.Ordinal)
    {
        ["sparse_coo"] = new[] { "indices", "values" },
        ["sparse_csr"] = new[] { "crow_indices", "col_indices", "values" },
        ["sparse_bsr"] = new[] { "crow_indices", "col_indices", "values" },
        ["sparse_csc"] = new[] { "ccol_indices", "row_indices", "values" },
        ["sparse_bsc"] = new[] { "ccol_indices", "row_indices", "values" },
    };

    internal SparseTensor(string layout, long[] shape, IReadOnlyList<Tensor> components, bool? isCoalesced,
        bool savedAsCsrFunction = false)
    {
        if (!ComponentNames.TryGetValue(layout, out var names))
            throw Fail.Unsupported(ErrorIds.UnsupportedTensorFeature, $"The sparse layout '{layout}' is not one " +
                $"torch has.");
        if (components.Count != names.Length)
            throw Fail.Data(ErrorIds.PickleStructure,
                $"A {layout} tensor has {names.Length} parts ({string.Join(", ", names)}) but {components.Count} " +
                    $"were given.");
        if (shape.Any(s => s < 0))
            throw Fail.Data(ErrorIds.NegativeSize, $"A {layout} tensor has a negative size " +
                $"[{string.Join(", ", shape)}].");
        Layout = layout;
        Shape = shape;
        Components = components;
        IsCoalesced = isCoalesced;
        SavedAsCsrFunction = savedAsCsrFunction;
        Name = "";
        foreach (var c in components) c.Sparse = this;
    }

    /// <summary>The key path of the tensor inside the checkpoint, joined with '.'.</summary>
    public string Name { get; internal set; }

    /// <summary>torch's layout name: sparse_coo, sparse_csr, sparse_csc, sparse_bsr or sparse_bsc.</summary>
    public string Layout { get; }

    /// <summary>The dense size (torch's <c>t.shape</c>).</summary>
    public DimList Shape { get; }

    /// <summary>torch's name of the values' dtype (torch's <c>t.dtype</c>).</summary>
    public string DType => Values.DType;

    /// <summary>The values' dtype itself.</summary>
    public DType DTypeInfo => Values.DTypeInfo;

    /// <summary>The parts in torch's order: indices then values (COO), compressed, plain, values (the
    /// others).</summary>
    public IReadOnlyList<Tensor> Components { get; }

    /// <summary>What torch calls each part: indices, values, crow_indices, col_indices, ccol_indices,
    /// row_indices.</summary>
    public IReadOnlyList<string> ComponentNamesInOrder => ComponentNames[Layout];

    public Tensor Values => Components[^1];

    /// <summary>COO: the indices, sparse_dim × nnz.</summary>
    public Tensor? Indices => Layout == "sparse_coo" ? Components[0] : null;

    /// <summary>CSR/BSR: crow_indices; CSC/BSC: ccol_indices.</summary>
    public Tensor? CompressedIndices => Layout == "sparse_coo" ? null : Components[0];

    /// <summary>CSR/BSR: col_indices; CSC/BSC: row_indices.</summary>
    public Tensor? PlainIndices => Layout == "sparse_coo" ? null : Components[1];

    /// <summary>Specified elements (torch's <c>_nnz()</c>): the values' first dimension.</summary>
    public long NumSpecified => Values.Shape.Length == 0 ? 1 : Values.Shape[0];

    /// <summary>COO only, torch 2.x files: whether the indices were saved coalesced; null when the file does not
    /// say.</summary>
    public bool? IsCoalesced { get; }

    public string Device => Values.Device;

    /// <summary>torch 1.13 saved CSR through _rebuild_sparse_csr_tensor; later versions through
    /// _rebuild_sparse_tensor.</summary>
    internal bool SavedAsCsrFunction { get; }

    /// <summary>The same sparse tensor over other parts (cast, renamed or placed), keeping layout and size.</summary>
    public SparseTensor WithComponents(IReadOnlyList<Tensor> components)
        => new(Layout, Shape.Items, components.Select(c => c.WithName(c.Name)).ToList(), IsCoalesced,
            SavedAsCsrFunction)
            { Name = Name };

    /// <summary>The name a part is listed under: the sparse tensor's name and torch's accessor.</summary>
    internal string ComponentName(int index) => (Name.Length == 0 ? "" : Name + ".") + ComponentNames[Layout][index];

    public override string ToString() => $"{Name} {DType}[{string.Join(", ", Shape)}] {Layout}";
}
