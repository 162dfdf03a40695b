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
/// (in, out) (<c>fan_in_fan_out</c>, GPT-2's Conv1D); for an embedding W′ = W + s·(B·A)ᵀ; s = α/r, or α/√r with
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
    public static IReadOnlyList<Tensor> Merge(IReadOnlyList<Tensor> baseTensors, string adapterFolder,
        LoadOptions options, double adapterScale, ICollection<IDisposable> opened)
    {
        var config = ReadConfig(adapterFolder);
        string weightsFile = new[] { "adapter_model.safetensors", "adapter_model.bin" }
            .Select(n => Path.Combine(adapterFolder, n)).FirstOrDefault(File.Exists)
            ?? throw Invalid(adapterFolder, "it holds no adapter_model.safetensors or adapter_model.bin");
        var adapter = CheckpointReader.Open(weightsFile, options);
        opened.Add(adapter);
        var byName = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var t in baseTensors) byName.TryAdd(t.Name, t);
        var modules = new Dictionary<string, (Tensor? A, Tensor? B, bool Embedding)>(StringComparer.Ordinal);
        var replaced = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var t in adapter.Tensors)
        {
            string key = t.Name.StartsWith(Prefix, StringComparison.Ordinal) ? t.Name[Prefix.Length..] : t.Name;
            if (Part(key, ".lora_A.weight", out var m) || Part(key, ".lora_embedding_A", out m))
                modules[m] = modules.GetValueOrDefault(m) with { A = t, Embedding = key.EndsWith("_A",
                    StringComparison.Ordinal) };
            else if (Part(key, ".lora_B.weight", out m) || Part(key, ".lora_embedding_B", out m))
                modules[m] = modules.GetValueOrDefault(m) with { B = t };
            else if (key.Contains(".lora_", StringComparison.Ordinal))
                throw new TorchSerialException(ErrorIds.AdapterUnsupported, ErrorKind.NotImplemented,
                    $"The adapter's '{t.Name}' is a LoRA part TorchSerial does not merge yet (DoRA magnitudes, LoRA " +
                        "biases and convolution adapters are not supported); nothing was merged.") { Record = t.Name };
            else if (byName.TryGetValue(key, out var target))
            {
                if (!target.Shape.Equals(t.Shape))
                    throw Invalid(adapterFolder, $"'{t.Name}' is {t.Shape}, but the base's '{key}' is {target.Shape}");
                replaced[key] = t;
            }
            else throw Invalid(adapterFolder, $"'{t.Name}' matches no tensor of the base model ('{key}')");
        }
        var merged = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (module, (a, b, embedding)) in modules)
        {
            if (a is null || b is null)
                throw Invalid(adapterFolder, $"module '{module}' has lora_{(a is null ? "A" : "B")} but not its pair");
            string key = module + ".weight";
            if (!byName.TryGetValue(key, out var w))
                throw Invalid(adapterFolder, $"the adapter's '{a.Name}' names '{key}', which the base model does not " +
                    "have (are the base's names those of the model the adapter was trained on?)");
            merged[key] = MergeOne(w, a, b, embedding, config, module, adapterScale, adapterFolder);
        }
        return baseTensors.Select(t => merged.TryGetValue(t.Name, out var m) ? m
            : replaced.TryGetValue(t.Name, out var r) ? r.WithName(t.Name) : t).ToList();
    }

    private static Tensor MergeOne(Tensor w, Tensor a, Tensor b, bool embedding, Config config, string module,
        double adapterScale, string folder)
    {
        var dtype = w.DTypeInfo;
        if (w.Rank != 2 || !dtype.IsClassicFloat)
            throw new TorchSerialException(ErrorIds.AdapterUnsupported, ErrorKind.NotImplemented,
                $"'{w.Name}' is {dtype.Name} {w.Shape}; adapters are merged into 2-D float weights (Linear and " +
                    "Embedding); convolution and quantized bases are not supported yet.") { Record = w.Name };
        if (a.Rank != 2 || b.Rank != 2)
            throw Invalid(folder, $"the LoRA matrices of '{module}' are not 2-D ({a.Shape}, {b.Shape})");
        int r = (int)a.Shape[0];
        if (b.Shape[1] != r)
            throw Invalid(folder, $"lora_A of '{module}' has rank {r} but lora_B {b.Shape[1]}");
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
        double scale = adapterScale * (config.RsLora ? alpha / Math.Sqrt(rank) : alpha / rank);
        var A = Doubles(a);
        var B = Doubles(b);
        long rows = w.Shape[0], columns = w.Shape[1];
        double[] left, right;
        if (!embedding && !config.FanInFanOut) // W (out, in) = B (out, r) · A (r, in)
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
        var buffer = new LowRankUpdateBuffer(w, left, right, r, scale);
        var storage = new Storage(w.Name, dtype, buffer.Length, w.SavedLocation, untyped: false,
            new LazyBuffer(w.Name, buffer.Length, buffer));
        return new Tensor(storage, dtype, 0, w.Shape.ToArray(), TensorGeometry.ContiguousStrides(w.Shape.ToArray()))
            { Name = w.Name, IsParameter = w.IsParameter, RequiresGrad = w.RequiresGrad };
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

    private sealed record Config(int R, double Alpha, bool RsLora, bool FanInFanOut,
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
            if (Flag("use_dora")) throw Unsupported(folder, "it is a DoRA adapter (use_dora), not merged yet");
            if (Flag("lora_bias")) throw Unsupported(folder, "its LoRA B has a bias (lora_bias), not merged yet");
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
            return new Config(r, alpha, Flag("use_rslora"), Flag("fan_in_fan_out"), ranks, alphas);
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
