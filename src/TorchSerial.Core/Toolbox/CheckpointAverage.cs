using TorchSerial.Buffers;
using TorchSerial.Errors;
using TorchSerial.Tensors;

namespace TorchSerial.Toolbox;

/// <summary>
/// The weighted average of checkpoints, as the averaging scripts of fairseq and timm and weight soups compute it, with
/// one rule for precision: each floating tensor is Σ wᵢ·xᵢ accumulated in float64 in the inputs' order and rounded
/// once to its dtype; integer and bool tensors (step counters, <c>num_batches_tracked</c>) come from the last input.
/// Inputs are checked whole before any tensor is given out: the same names, dtypes and shapes in every input, or an
/// error naming the tensor and the file. Nothing is computed until a tensor's bytes are read.
/// </summary>
public static class CheckpointAverage
{
    /// <param name="inputs">Each input's tensors (named as the output will be) and the file they came from.</param>
    /// <param name="weights">One weight an input (they need not sum to 1); null for the uniform 1/N.</param>
    /// <returns>The merged tensors, in the first input's order.</returns>
    public static IReadOnlyList<Tensor> Merge(IReadOnlyList<(string File, IReadOnlyList<Tensor> Tensors)> inputs,
        IReadOnlyList<double>? weights = null)
    {
        if (inputs.Count == 0)
            throw new TorchSerialException(ErrorIds.MergeInputsDisagree, ErrorKind.InvalidArgument,
                "There is nothing to merge: give two or more checkpoints.");
        weights ??= Enumerable.Repeat(1.0 / inputs.Count, inputs.Count).ToArray();
        if (weights.Count != inputs.Count)
            throw new TorchSerialException(ErrorIds.MergeWeightsInvalid, ErrorKind.InvalidArgument,
                $"{weights.Count} weight(s) were given for {inputs.Count} checkpoint(s); give one weight a " +
                    "checkpoint.");
        if (weights.Any(w => !double.IsFinite(w)))
            throw new TorchSerialException(ErrorIds.MergeWeightsInvalid, ErrorKind.InvalidArgument,
                "Every weight must be a finite number.");

        var byName = inputs.Select(i => Index(i.File, i.Tensors)).ToList();
        var (firstFile, firstTensors) = inputs[0];
        for (int k = 1; k < inputs.Count; k++)
        {
            foreach (var t in firstTensors)
                if (!byName[k].ContainsKey(t.Name))
                    throw Disagree($"'{inputs[k].File}' has no tensor '{t.Name}', which '{firstFile}' has", t.Name);
            foreach (var t in inputs[k].Tensors)
                if (!byName[0].ContainsKey(t.Name))
                    throw Disagree($"'{inputs[k].File}' has a tensor '{t.Name}' that '{firstFile}' does not", t.Name);
        }
        var merged = new List<Tensor>(firstTensors.Count);
        foreach (var first in firstTensors)
        {
            var all = byName.Select(d => d[first.Name]).ToList();
            for (int k = 1; k < all.Count; k++)
                if (all[k].DTypeInfo != first.DTypeInfo || !all[k].Shape.Equals(first.Shape))
                    throw Disagree($"tensor '{first.Name}' is {first.DType} {first.Shape} in '{firstFile}' but " +
                        $"{all[k].DType} {all[k].Shape} in '{inputs[k].File}'", first.Name);
            merged.Add(MergeOne(first.Name, all, weights, inputs));
        }
        return merged;
    }

    private static Tensor MergeOne(string name, List<Tensor> all, IReadOnlyList<double> weights,
        IReadOnlyList<(string File, IReadOnlyList<Tensor> Tensors)> inputs)
    {
        var dtype = all[0].DTypeInfo;
        bool averaged = dtype.IsClassicFloat;
        if (!averaged && (dtype.IsFloatingPoint || dtype.Kind is ElementKind.Complex or ElementKind.ComplexHalf
            || dtype.IsQuantized))
            throw new TorchSerialException(ErrorIds.UnsupportedCast, ErrorKind.NotImplemented,
                $"Tensor '{name}' is {dtype.Name}; averages are computed for float64, float32, float16 and bfloat16 " +
                    "tensors (integer and bool tensors are taken from the last checkpoint).");
        if (all.Any(t => t.IsMeta || t.Sparse is not null))
            throw Disagree($"tensor '{name}' is a meta or sparse tensor in '{inputs[all.FindIndex(t => t.IsMeta
                || t.Sparse is not null)].File}', which has no dense values to average", name);
        var last = all[^1];
        if (!averaged) return last.WithName(name);
        var bytes = new AverageBuffer(all, weights, dtype);
        var storage = new Storage(name, dtype, bytes.Length, "cpu", untyped: false,
            new LazyBuffer(name, bytes.Length, bytes));
        var tensor = new Tensor(storage, dtype, 0, all[0].Shape.ToArray(),
            TensorGeometry.ContiguousStrides(all[0].Shape.ToArray())) { Name = name };
        tensor.IsParameter = all[0].IsParameter;
        tensor.RequiresGrad = all[0].RequiresGrad;
        return tensor;
    }

    private static Dictionary<string, Tensor> Index(string file, IReadOnlyList<Tensor> tensors)
    {
        var d = new Dictionary<string, Tensor>(tensors.Count, StringComparer.Ordinal);
        foreach (var t in tensors)
            if (!d.TryAdd(t.Name, t)) throw Disagree($"'{file}' holds two tensors named '{t.Name}'", t.Name);
        return d;
    }

    private static TorchSerialException Disagree(string problem, string tensor)
        => new(ErrorIds.MergeInputsDisagree, ErrorKind.InvalidData,
            $"The checkpoints cannot be merged: {problem}. Nothing was written.") { Record = tensor };
}
