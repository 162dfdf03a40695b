using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.RegularExpressions;
using TorchSerial.Buffers;
using TorchSerial.Errors;
using TorchSerial.Reading;
using TorchSerial.Tensors;

namespace TorchSerial.Toolbox;

/// <summary>
/// Merges a PEFT LoRA adapter into its base weights as <c>merge_and_unload</c> computes them
/// (checkpoint-merging.md §2): for each targeted Linear weight W′ = W + s·(B·A), transposed when the base stores it
/// (in, out) (<c>fan_in_fan_out</c>, GPT-2's Conv1D); for an embedding W′ = W + s·(B·A)ᵀ; for a convolution
/// ΔW[o, i, k…] = s·Σⱼ B[o, j]·A[j, i, k…] (the (out, in·k…) view; grouped convolutions are refused); with
/// <c>lora_bias</c> b′ = b + s·b_B; with DoRA, V = W + ΔW rescaled to m / ‖V‖ per output row (per column of an
/// embedding or of a weight stored (in, out)), the norm taken from the unmerged W; s = α/r, or α/√r with
/// rsLoRA, with <c>rank_pattern</c>/<c>alpha_pattern</c> resolved per module as PEFT resolves them. The product and
/// the sum are computed in float64 and rounded once to W's dtype (PEFT's default path adds a float32 ΔW in the
/// promoted dtype, so results agree within one unit in the last place). Weights the adapter saves whole
/// (<c>modules_to_save</c>, trained biases) replace the base's. Nothing is computed until a tensor's bytes are read.
/// </summary>
public static class AdapterMerge
{
    private const string Prefix = "base_model.model.";

    /// <param name="baseTensors">The base model's tensors, named as its state_dict.</param>
    /// <param name="adapterFolder">A folder with <c>adapter_config.json</c> and <c>adapter_model.safetensors</c>
    /// (or <c>.bin</c>).</param>
    /// <param name="options">How the adapter's weights are read.</param>
    /// <param name="adapterScale">Scales the whole adapter (1 merges it as trained).</param>
    /// <param name="opened">Receives the adapter checkpoint, which must stay open while the result is read.</param>
    /// <param name="product">Where the low-rank products are computed (an accelerator's kernel); null for the
    /// host.</param>
    public static IReadOnlyList<Tensor> Merge(IReadOnlyList<Tensor> baseTensors, string adapterFolder,
        LoadOptions options, double adapterScale, ICollection<IDisposable> opened, LowRankProduct? product = null)
    {
        var config = ReadConfig(adapterFolder);
        string weightsFile = new[] { "adapter_model.safetensors", "adapter_model.bin" }
            .Select(n => Path.Combine(adapterFolder, n)).FirstOrDefault(File.Exists)
            ?? throw Invalid(adapterFolder, "it holds no adapter_model.safetensors or adapter_model.bin");
        var adapter = CheckpointReader.Open(weightsFile, options);
        opened.Add(adapter);
        var byName = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var t in baseTensors) byName.TryAdd(t.Name, t);
        var modules = new Dictionary<string, Module>(StringComparer.Ordinal);
        var replaced = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var t in adapter.Tensors)
        {
            string key = t.Name.StartsWith(Prefix, StringComparison.Ordinal) ? t.Name[Prefix.Length..] : t.Name;
            Module Of(string name) => modules.GetValueOrDefault(name) ?? new Module();
            if (Part(key, ".lora_A.weight", out var m) || Part(key, ".lora_embedding_A", out m))
                modules[m] = Of(m) with { A = t, Embedding = key.EndsWith("_A", StringComparison.Ordinal) };
            else if (Part(key, ".lora_B.weight", out m) || Part(key, ".lora_embedding_B", out m))
                modules[m] = Of(m) with { B = t };
            else if (Part(key, ".lora_B.bias", out m)) modules[m] = Of(m) with { BBias = t };
            else if (Part(key, ".lora_magnitude_vector", out m) || Part(key, ".lora_magnitude_vector.weight", out m))
                modules[m] = Of(m) with { Magnitude = t };
            else if (key.Contains(".lora_", StringComparison.Ordinal))
                throw new TorchSerialException(ErrorIds.AdapterUnsupported, ErrorKind.NotImplemented,
                    $"The adapter's '{t.Name}' is a LoRA part TorchSerial does not know (not lora_A/B, " +
                        "lora_embedding_A/B, lora_B.bias or lora_magnitude_vector); nothing was merged.")
                    { Record = t.Name };
            else if (byName.TryGetValue(key, out var target))
            {
                if (!target.Shape.Equals(t.Shape))
                    throw Invalid(adapterFolder, $"'{t.Name}' is {t.Shape}, but the base's '{key}' is {target.Shape}");
                replaced[key] = t;
            }
            else throw Invalid(adapterFolder, $"'{t.Name}' matches no tensor of the base model ('{key}')");
        }
        var merged = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (module, parts) in modules)
        {
            if (parts.A is not { } a || parts.B is not { } b)
                throw Invalid(adapterFolder, $"module '{module}' has lora_{(parts.A is null ? "A" : "B")} but not " +
                    "its pair");
            string key = module + ".weight";
            if (!byName.TryGetValue(key, out var w))
                throw Invalid(adapterFolder, $"the adapter's '{a.Name}' names '{key}', which the base model does not " +
                    "have (are the base's names those of the model the adapter was trained on?)");
            double scale = adapterScale * Scale(config, module, adapterFolder);
            merged[key] = MergeOne(w, parts, config, module, scale, adapterFolder, product);
            if (parts.BBias is { } bias)
            {
                string biasKey = module + ".bias";
                if (!byName.TryGetValue(biasKey, out var baseBias) || !baseBias.Shape.Equals(bias.Shape))
                    throw Invalid(adapterFolder, $"its '{bias.Name}' ({bias.Shape}) has no base bias '{biasKey}' of " +
                        "that shape to merge into");
                // b′ = b + s·b_B: the low-rank update of a one-column matrix, with R = [1].
                merged[biasKey] = Updated(baseBias, Column(baseBias), Doubles(bias), new[] { 1.0 }, 1, scale,
                    product);
            }
        }
        return baseTensors.Select(t => merged.TryGetValue(t.Name, out var m) ? m
            : replaced.TryGetValue(t.Name, out var r) ? r.WithName(t.Name) : t).ToList();
    }

    /// <summary>A module's adapter parts, as the adapter file names them.</summary>
    private sealed record Module(Tensor? A = null, Tensor? B = null, bool Embedding = false, Tensor? BBias = null,
        Tensor? Magnitude = null);

    private static Tensor MergeOne(Tensor weight, Module parts, Config config, string module, double scale,
        string folder, LowRankProduct? product)
    {
        Tensor w = weight, a = parts.A!, b = parts.B!;
        bool embedding = parts.Embedding;
        var dtype = w.DTypeInfo;
        if (w.Rank < 2 || !dtype.IsClassicFloat)
            throw new TorchSerialException(ErrorIds.AdapterUnsupported, ErrorKind.NotImplemented,
                $"'{w.Name}' is {dtype.Name} {w.Shape}; adapters are merged into float weights of Linear, Embedding " +
                    "and convolution layers; quantized bases are not supported.") { Record = w.Name };
        if (w.Rank > 2) (w, a, b) = ConvolutionAsMatrices(w, a, b, module, folder);
        if (a.Rank != 2 || b.Rank != 2)
            throw Invalid(folder, $"the LoRA matrices of '{module}' are not 2-D ({a.Shape}, {b.Shape})");
        int r = (int)a.Shape[0];
        if (b.Shape[1] != r)
            throw Invalid(folder, $"lora_A of '{module}' has rank {r} but lora_B {b.Shape[1]}");
        var A = Doubles(a);
        var B = Doubles(b);
        long rows = w.Shape[0], columns = w.Shape[1];
        double[] left, right;
        bool stored = !embedding && !config.FanInFanOut;
        if (stored) // W (out, in) = B (out, r) · A (r, in)
        {
            Expect(w, b.Shape[0], a.Shape[1], module, folder);
            (left, right) = (B, A);
        }
        else // W stored (in, out), or an embedding (V, D): W = Aᵀ (·, r) · Bᵀ (r, ·)
        {
            Expect(w, a.Shape[1], b.Shape[0], module, folder);
            left = Transpose(A, r, rows);
            right = Transpose(B, columns, r);
        }
        double[]? magnitude = null;
        if (config.UseDora && parts.Magnitude is null)
            throw Invalid(folder, $"it is a DoRA adapter (use_dora), but module '{module}' has no " +
                "lora_magnitude_vector");
        if (parts.Magnitude is { } m)
        {
            // DoRA normalises per output feature: W's rows, or its columns where W is stored the other way round.
            long features = stored ? rows : columns;
            if (m.NumElements != features)
                throw Invalid(folder, $"the DoRA magnitude of '{module}' has {m.NumElements} values, but its weight " +
                    $"has {features} output features");
            magnitude = Doubles(m);
        }
        return Updated(weight, w, left, right, r, scale, product, magnitude, columnNorms: !stored);
    }

    /// <summary>The scale s of a module: α/r, or α/√r with rsLoRA, after rank_pattern and alpha_pattern.</summary>
    private static double Scale(Config config, string module, string folder)
    {
        int rank;
        double alpha;
        // The patterns are the adapter's own regular expressions: a malformed or pathological one is the file's fault.
        try { (rank, alpha) = config.For(module); }
        catch (Exception ex) when (ex is ArgumentException or RegexMatchTimeoutException)
        {
            throw new TorchSerialException(ErrorIds.AdapterInvalid, ErrorKind.InvalidData,
                $"The adapter '{folder}' cannot be merged: a rank_pattern or alpha_pattern is not a usable regular " +
                    $"expression ({ex.Message}). Nothing was merged.", ex);
        }
        if (rank <= 0) throw Invalid(folder, $"the rank of '{module}' is {rank}");
        return config.RsLora ? alpha / Math.Sqrt(rank) : alpha / rank;
    }

    /// <summary>
    /// The merged tensor: <paramref name="original"/>'s name, shape and flags over W′ = W + s·(L·R) computed from
    /// <paramref name="matrix"/> (the original, or its 2-D view), on read.
    /// </summary>
    private static Tensor Updated(Tensor original, Tensor matrix, double[] left, double[] right, int rank,
        double scale, LowRankProduct? product, double[]? magnitude = null, bool columnNorms = false)
    {
        var dtype = original.DTypeInfo;
        var buffer = new LowRankUpdateBuffer(matrix, left, right, rank, scale, magnitude, columnNorms, product);
        var storage = new Storage(original.Name, dtype, buffer.Length, original.SavedLocation, untyped: false,
            new LazyBuffer(original.Name, buffer.Length, buffer));
        long[] shape = original.Shape.ToArray();
        return new Tensor(storage, dtype, 0, shape, TensorGeometry.ContiguousStrides(shape))
            { Name = original.Name, IsParameter = original.IsParameter, RequiresGrad = original.RequiresGrad };
    }

    /// <summary>A 1-D tensor as a one-column matrix over the same bytes.</summary>
    private static Tensor Column(Tensor t) => new(t.Storage, t.DTypeInfo, t.StorageOffset,
        new[] { t.Shape[0], 1L }, new[] { t.Stride[0], 1L });

    /// <summary>
    /// A convolution's weight (out, in, k…) and its LoRA kernels as the matrices of the same product: W as (out,
    /// in·k…), A (r, in, k…) as (r, in·k…), B (out, r, 1…) as (out, r). PEFT's grouped branch (A with in/groups
    /// channels) is refused.
    /// </summary>
    private static (Tensor W, Tensor A, Tensor B) ConvolutionAsMatrices(Tensor w, Tensor a, Tensor b, string module,
        string folder)
    {
        if (a.Rank != w.Rank || b.Rank != w.Rank || b.Shape.Skip(2).Any(d => d != 1))
            throw Invalid(folder, $"the LoRA kernels of the convolution '{module}' ({a.Shape}, {b.Shape}) do not fit " +
                $"its weight {w.Shape}");
        if (!a.Shape.Skip(1).SequenceEqual(w.Shape.Skip(1)))
            throw new TorchSerialException(ErrorIds.AdapterUnsupported, ErrorKind.NotImplemented,
                $"The convolution '{module}' has LoRA kernels {a.Shape} for its weight {w.Shape}: a grouped " +
                    "convolution, which is not merged; nothing was merged.") { Record = w.Name };
        return (Matrix(w), Matrix(a), Matrix(b));
    }

    /// <summary>The (first dimension × the rest) view of a contiguous tensor; a strided one is copied.</summary>
    private static Tensor Matrix(Tensor t)
    {
        long rows = t.Shape[0], columns = t.NumElements / Math.Max(rows, 1);
        var source = t.IsContiguous ? t : Tensor.FromBytes(t.GetBytes(), t.DTypeInfo, t.Shape.ToArray());
        return new Tensor(source.Storage, t.DTypeInfo, source.StorageOffset, new[] { rows, columns },
            new[] { columns, 1L });
    }

    private static void Expect(Tensor w, long rows, long columns, string module, string folder)
    {
        if (w.Shape[0] != rows || w.Shape[1] != columns)
            throw Invalid(folder, $"the LoRA matrices of '{module}' make a [{rows}, {columns}] update, but the " +
                $"base's '{w.Name}' is {w.Shape}");
    }

    /// <summary>A (rows × columns) row-major matrix transposed.</summary>
    private static double[] Transpose(double[] m, long rows, long columns)
    {
        var t = new double[m.Length];
        for (long i = 0; i < rows; i++)
            for (long j = 0; j < columns; j++) t[j * rows + i] = m[i * columns + j];
        return t;
    }

    private static double[] Doubles(Tensor t)
    {
        var values = new double[t.NumElements];
        ElementCast.Cast(t.DTypeInfo, t.GetBytes(), DType.Float64, MemoryMarshal.AsBytes(values.AsSpan()));
        return values;
    }

    private static bool Part(string key, string suffix, out string module)
    {
        module = key.EndsWith(suffix, StringComparison.Ordinal) ? key[..^suffix.Length] : "";
        return module.Length > 0;
    }

    private sealed record Config(int R, double Alpha, bool RsLora, bool FanInFanOut, bool UseDora,
        List<(string Pattern, int Rank)> RankPattern, List<(string Pattern, double Alpha)> AlphaPattern)
    {
        /// <summary>PEFT's resolution: the first pattern p with <c>(.*\.)?(p)$</c> matching the module name from its
        /// start wins; else r and lora_alpha.</summary>
        public (int Rank, double Alpha) For(string module)
        {
            static bool Matches(string pattern, string name)
                => Regex.IsMatch(name, $"^(.*\\.)?({pattern})$", RegexOptions.CultureInvariant,
                    TimeSpan.FromSeconds(1));
            int rank = RankPattern.FirstOrDefault(p => Matches(p.Pattern, module)) is { Pattern: not null } rp
                ? rp.Rank : R;
            double alpha = AlphaPattern.FirstOrDefault(p => Matches(p.Pattern, module)) is { Pattern: not null } ap
                ? ap.Alpha : Alpha;
            return (rank, alpha);
        }
    }

    private static Config ReadConfig(string folder)
    {
        string path = Path.Combine(folder, "adapter_config.json");
        if (!File.Exists(path)) throw Invalid(folder, "it holds no adapter_config.json");
        if (new FileInfo(path).Length > 1 << 20) throw Invalid(folder, "its adapter_config.json is over 1 MiB");
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path), new JsonDocumentOptions { MaxDepth = 16 });
            var root = doc.RootElement;
            string? Text(string name) => root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String
                ? v.GetString() : null;
            bool Flag(string name) => root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.True;
            if (Text("peft_type") is { } type && type != "LORA")
                throw Unsupported(folder, $"its peft_type is {type}; only LoRA adapters are merged");
            if (Text("init_lora_weights") is "pissa" or "olora" or "corda" || (Text("init_lora_weights") ?? "")
                .StartsWith("pissa", StringComparison.Ordinal))
                throw Unsupported(folder, "it was initialised with PiSSA, OLoRA or CorDA, which change the base " +
                    "weights; merge it into the base it was converted against");
            int r = root.TryGetProperty("r", out var rv) && rv.TryGetInt32(out int ri) && ri > 0 ? ri : 8;
            double alpha = root.TryGetProperty("lora_alpha", out var av) && av.TryGetDouble(out double ad) ? ad : 8;
            var ranks = new List<(string, int)>();
            if (root.TryGetProperty("rank_pattern", out var rp) && rp.ValueKind == JsonValueKind.Object)
                foreach (var p in rp.EnumerateObject()) ranks.Add((p.Name, p.Value.GetInt32()));
            var alphas = new List<(string, double)>();
            if (root.TryGetProperty("alpha_pattern", out var ap) && ap.ValueKind == JsonValueKind.Object)
                foreach (var p in ap.EnumerateObject()) alphas.Add((p.Name, p.Value.GetDouble()));
            return new Config(r, alpha, Flag("use_rslora"), Flag("fan_in_fan_out"), Flag("use_dora"), ranks, alphas);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException)
        {
            throw new TorchSerialException(ErrorIds.AdapterInvalid, ErrorKind.InvalidData,
                $"The adapter_config.json of '{folder}' cannot be read: {ex.Message}", ex);
        }
    }

    private static TorchSerialException Invalid(string folder, string problem)
        => new(ErrorIds.AdapterInvalid, ErrorKind.InvalidData,
            $"The adapter '{folder}' cannot be merged: {problem}. Nothing was merged.");

    private static TorchSerialException Unsupported(string folder, string problem)
        => new(ErrorIds.AdapterUnsupported, ErrorKind.NotImplemented,
            $"The adapter '{folder}' cannot be merged: {problem}. Nothing was merged.");
}
