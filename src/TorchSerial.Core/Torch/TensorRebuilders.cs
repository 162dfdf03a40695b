using TorchSerial.Errors;
using TorchSerial.Pickle;
using TorchSerial.Python;
using TorchSerial.Tensors;
using static TorchSerial.Pickle.PickleArgs;

namespace TorchSerial.Torch;

/// <summary>
/// torch's rebuild functions (torch/_utils.py), re-expressed as pure constructors of
/// <see cref="Tensor"/>. Argument lists follow torch-format.md §3.4.
/// </summary>
internal static class TensorRebuilders
{
    /// <summary><c>_rebuild_tensor(storage, storage_offset, size, stride)</c>: pre-0.4 files.</summary>
    public static object RebuildTensor(PyTuple a)
    {
        Count(a, "_rebuild_tensor", 4, 4);
        var storage = AsStorage(a[0], "_rebuild_tensor");
        return Make(storage, ViewDType(storage), a[1], a[2], a[3]);
    }

    /// <summary><c>_rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[,
    /// metadata])</c>.</summary>
    public static object RebuildTensorV2(PyTuple a)
    {
        Count(a, "_rebuild_tensor_v2", 6, 7);
        var storage = AsStorage(a[0], "_rebuild_tensor_v2");
        var t = Make(storage, ViewDType(storage), a[1], a[2], a[3]);
        t.RequiresGrad = Bool(a[4], "requires_grad");
        if (a.Count == 7) t.Metadata = NonEmptyDict(a[6]);
        return t;
    }

    /// <summary><c>_rebuild_tensor_v3(storage, storage_offset, size, stride, requires_grad, backward_hooks, dtype[,
    /// metadata])</c>.</summary>
    public static object RebuildTensorV3(PyTuple a)
    {
        Count(a, "_rebuild_tensor_v3", 7, 8);
        var storage = AsStorage(a[0], "_rebuild_tensor_v3");
        var dtype = a[6] as DType ?? throw Bad($"_rebuild_tensor_v3 expects a dtype as its 7th argument but got {Describe(a[6])}.");
        StorageResolver.SwapBy(storage, dtype);
        var t = Make(storage, dtype, a[1], a[2], a[3]);
        t.RequiresGrad = Bool(a[4], "requires_grad");
        if (a.Count == 8) t.Metadata = NonEmptyDict(a[7]);
        return t;
    }

    /// <summary><c>_rebuild_parameter(data, requires_grad, backward_hooks)</c>.</summary>
    public static object RebuildParameter(PyTuple a)
    {
        Count(a, "_rebuild_parameter", 3, 3);
        return AsParameter(a[0], a[1]);
    }

    /// <summary><c>_rebuild_parameter_with_state(data, requires_grad, backward_hooks, state)</c>.</summary>
    public static object RebuildParameterWithState(PyTuple a)
    {
        Count(a, "_rebuild_parameter_with_state", 4, 4);
        var p = AsParameter(a[0], a[1]);
        p.PythonState = NonEmptyState(a[3]);
        return p;
    }

    /// <summary><c>_rebuild_from_type_v2(func, new_type, args, state)</c>: tensor subclasses and tensors with
    /// attributes.</summary>
    public static object? RebuildFromTypeV2(PyTuple a)
    {
        Count(a, "_rebuild_from_type_v2", 4, 4);
        var func = a[0] as Callable ?? throw Bad($"_rebuild_from_type_v2 expects a rebuild function but got {Describe(a[0])}.");
        var result = func.Call(Tuple(a[2], "_rebuild_from_type_v2 args"));
        if (result is not Tensor t) return result;
        t = t.WithName(t.Name);
        string? typeName = a[1] switch { Callable c => c.FullName, PyGlobal g => g.FullName, _ => null };
        if (typeName == "torch.nn.parameter.Parameter") t.IsParameter = true;
        else if (typeName is not null && typeName != "torch.Tensor") t.PythonType = typeName;
        t.PythonState = NonEmptyState(a[3]) ?? t.PythonState;
        return t;
    }

    /// <summary><c>_rebuild_qtensor(storage, storage_offset, size, stride, quantizer_params, requires_grad,
    /// backward_hooks)</c>.</summary>
    public static object RebuildQTensor(PyTuple a)
    {
        Count(a, "_rebuild_qtensor", 7, 7);
        var storage = AsStorage(a[0], "_rebuild_qtensor");
        var t = Make(storage, ViewDType(storage), a[1], a[2], a[3]);
        var q = Tuple(a[4], "quantizer_params");
        if (q.Count == 0) throw Bad("quantizer_params is empty.");
        string scheme = (q[0] as PyGlobal)?.Name ?? throw Bad($"quantizer_params[0] should be a qscheme but is {Describe(q[0])}.");
        t.Quantization = scheme switch
        {
            "per_tensor_affine" when q.Count == 3 =>
                new Quantization(scheme, Double(q[1], "scale"), Long(q[2], "zero_point"), null, null, null),
            "per_channel_affine" or "per_channel_affine_float_qparams" when q.Count == 4 =>
                new Quantization(scheme, null, null, q[1] as Tensor
                    ?? throw Bad("per-channel scales should be a tensor."),
                    q[2] as Tensor ?? throw Bad("per-channel zero points should be a tensor."), Long(q[3], "axis")),
            _ => throw Fail.Unsupported(ErrorIds.UnsupportedTensorFeature,
                $"A quantized tensor uses the quantization scheme '{scheme}' with {q.Count - 1} parameters, which " +
                    "TorchSerial does not load."),
        };
        t.RequiresGrad = Bool(a[5], "requires_grad");
        return t;
    }

    /// <summary>Rebuild functions for layouts TorchSerial refuses; the reader names the tensor when it finds the
    /// marker.</summary>
    public static Func<PyTuple, object?> Unsupported(string feature) => _ => new UnsupportedTensor(feature);

    /// <summary>
    /// <c>_rebuild_sparse_tensor(layout, data)</c>: COO data is (indices, values, size[, is_coalesced]); CSR/BSR are
    /// (crow_indices, col_indices, values, size), CSC/BSC (ccol_indices, row_indices, values, size). The parts are
    /// checked for shape consistency here; torch checks index values after loading, which needs the data.
    /// </summary>
    public static object RebuildSparse(PyTuple a)
    {
        Count(a, "_rebuild_sparse_tensor", 2, 2);
        string layout = LayoutName(a[0]);
        var data = Tuple(a[1], "_rebuild_sparse_tensor data");
        if (layout == "sparse_coo")
        {
            Count(data, "sparse COO data", 3, 4);
            var indices = Part(data[0], "indices");
            var values = Part(data[1], "values");
            var size = LongSequence(data[2], "size");
            if (indices.Rank != 2 || indices.Shape[0] > size.Length || values.Rank == 0
                || indices.Shape[1] != values.Shape[0] || indices.Shape[0] + values.Rank - 1 != size.Length)
                throw Bad($"A sparse COO tensor's parts do not fit its size [{string.Join(", ", size)}]: indices " +
                    $"[{string.Join(", ", indices.Shape)}], values [{string.Join(", ", values.Shape)}].");
            bool? coalesced = data.Count == 4 ? Bool(data[3], "is_coalesced") : null;
            return new SparseTensor(layout, size, new[] { indices, values }, coalesced);
        }
        return Compressed(layout, data, csrFunction: false);
    }

    /// <summary><c>_rebuild_sparse_csr_tensor(layout, (crow_indices, col_indices, values, size))</c>: torch 1.13's
    /// CSR form, which torch ≥ 2.6 does not allow by default.</summary>
    public static object RebuildSparseCsr(PyTuple a)
    {
        Count(a, "_rebuild_sparse_csr_tensor", 2, 2);
        return Compressed(LayoutName(a[0]), Tuple(a[1], "_rebuild_sparse_csr_tensor data"), csrFunction: true);
    }

    private static SparseTensor Compressed(string layout, PyTuple data, bool csrFunction)
    {
        Count(data, $"{layout} data", 4, 4);
        var compressed = Part(data[0], "compressed indices");
        var plain = Part(data[1], "plain indices");
        var values = Part(data[2], "values");
        var size = LongSequence(data[3], "size");
        if (compressed.Rank < 1 || plain.Rank < 1 || values.Rank < 1 || size.Length < 2
            || plain.Shape[^1] != values.Shape[0])
            throw Bad($"A {layout} tensor's parts do not fit its size [{string.Join(", ", size)}]: compressed " +
                $"[{string.Join(", ", compressed.Shape)}], plain [{string.Join(", ", plain.Shape)}], values " +
                $"[{string.Join(", ", values.Shape)}].");
        return new SparseTensor(layout, size, new[] { compressed, plain, values }, null, csrFunction);
    }

    /// <summary><c>_rebuild_meta_tensor_no_storage(dtype, size, stride, requires_grad)</c>: no storage at
    /// all.</summary>
    public static object RebuildMeta(PyTuple a)
    {
        Count(a, "_rebuild_meta_tensor_no_storage", 4, 4);
        var dtype = a[0] as DType ?? throw Bad($"A meta tensor's dtype is {Describe(a[0])}.");
        return Tensor.Meta(dtype, LongSequence(a[1], "size"), LongSequence(a[2], "stride"), Bool(a[3],
            "requires_grad"));
    }

    private static string LayoutName(object? layout) => layout switch
    {
        PyGlobal { Module: "torch" } g => g.Name,
        _ => throw Bad($"A sparse tensor's layout is {Describe(layout)}, not a torch layout."),
    };

    private static Tensor Part(object? value, string what)
        => value as Tensor ?? throw Bad($"A sparse tensor's {what} should be a tensor but is {Describe(value)}.");

    private static Tensor Make(Storage storage, DType dtype, object? offset, object? size, object? stride)
        => new(storage, dtype, Long(offset, "storage_offset"), LongSequence(size, "size"), LongSequence(stride,
            "stride"));

    private static DType ViewDType(Storage storage) => storage.DType;

    private static Tensor AsParameter(object? data, object? requiresGrad)
    {
        var t = data as Tensor ?? throw Bad($"_rebuild_parameter expects a tensor but got {Describe(data)}.");
        t = t.WithName(t.Name);
        t.IsParameter = true;
        t.RequiresGrad = Bool(requiresGrad, "requires_grad");
        return t;
    }

    private static Storage AsStorage(object? value, string func)
        => value as Storage ?? throw Bad($"{func} expects a storage as its first argument but got {Describe(value)}.");

    private static PyDict? NonEmptyDict(object? value) => value is PyDict { Count: > 0 } d ? d : null;

    private static object? NonEmptyState(object? state) => state switch
    {
        null => null,
        PyDict { Count: 0 } => null,
        PyTuple { Count: 2 } t when t[0] is null or PyDict { Count: 0 } && t[1] is null or PyDict { Count: 0 } => null,
        _ => state,
    };
}
