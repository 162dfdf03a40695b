using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace TorchSerial.Judge;

/// <summary>
/// Files LibTorch 2.10 writes itself, and what they hold as LibTorch sees it (DIR/expected.json: per file its root and
/// every tensor's name, dtype, shape, strides, offset, SHA-256 of its logical bytes and which storage it views):
/// <list type="bullet">
/// <item>dtypes.pt: a Dict[str, Tensor] with one 2×3 tensor of every dtype LibTorch 2.10 saves, float8 and uint16–64
/// included (torch.save through TorchScript, which wraps the dict in torch.jit._pickle.restore_type_tag);</item>
/// <item>views.pt: a dict of a matrix and five views of its one storage (a row, a column, the transpose, a block, a
/// reshape);</item>
/// <item>tensor.pt and tensor_f8.pt: a tensor as the root: a slice of a larger storage, and a float8 tensor;</item>
/// <item>for each SCRIPTED.pt (a module torch 1.13 scripted), SCRIPTED.jit210.pt: torch.jit.load and torch.jit.save
/// in LibTorch 2.10, described by the parameters and buffers LibTorch loads back from the file it wrote.</item>
/// </list>
/// </summary>
internal static class WriteJudge
{
    public static int Run(string dir, string[] scripted)
    {
        Directory.CreateDirectory(dir);
        var expected = new Dictionary<string, object>();

        var dtypes = new List<(string, Tensor)>();
        var counting = torch.arange(-2.0, 4.0, dtype: ScalarType.Float64).reshape(2, 3) * 1.5;
        foreach (var (name, code) in DTypes.All)
        {
            var values = name.StartsWith("uint", StringComparison.Ordinal) || name == "float8_e8m0fnu"
                ? counting.abs() * 1000 + 7 : counting;
            dtypes.Add((name, values.to_type((ScalarType)code)));
        }
        Save(dir, "dtypes.pt", dtypes, expected);

        var matrix = torch.arange(24, dtype: ScalarType.Float32).reshape(4, 6) / 4;
        Save(dir, "views.pt",
        [
            ("matrix", matrix), ("row", matrix[1]), ("column", matrix[.., 2]), ("transposed", matrix.t()),
            ("block", matrix[1..3, 2..5]), ("flat", matrix.view(24)),
        ], expected, shared: "matrix");

        var longer = torch.arange(10, dtype: ScalarType.Int64) * 3;
        var slice = longer[2..7];
        TorchSave.Tensor(slice, Path.Combine(dir, "tensor.pt"));
        expected["tensor.pt"] = Root("tensor", [DTypes.Describe("", slice)]);
        var f8 = (torch.arange(-6.0, 6.0, dtype: ScalarType.Float32) / 3).to_type(DTypes.Of("float8_e4m3fn"));
        TorchSave.Tensor(f8, Path.Combine(dir, "tensor_f8.pt"));
        expected["tensor_f8.pt"] = Root("tensor", [DTypes.Describe("", f8)]);

        foreach (var source in scripted)
        {
            var name = Path.GetFileNameWithoutExtension(source) + ".jit210.pt";
            var path = Path.Combine(dir, name);
            using (var module = torch.jit.load(source)) torch.jit.save(module, path);
            using var loaded = torch.jit.load(path);
            var tensors = loaded.named_parameters().Select(p => DTypes.Describe(p.name, p.parameter))
                .Concat(loaded.named_buffers().Select(b => DTypes.Describe(b.name, b.buffer))).ToList();
            expected[name] = Root("module", tensors);
        }

        File.WriteAllText(Path.Combine(dir, "expected.json"),
            JsonSerializer.Serialize(expected, new JsonSerializerOptions { WriteIndented = true }));
        Console.WriteLine($"{expected.Count} files written by LibTorch {torch.__version__} into {dir}");
        return 0;
    }

    private static void Save(string dir, string file, List<(string Key, Tensor Value)> items,
        Dictionary<string, object> expected, string? shared = null)
    {
        TorchSave.Dict(items, Path.Combine(dir, file));
        expected[file] = Root("dict", items.Select(i => DTypes.Describe(i.Key, i.Value, shared)).ToList());
    }

    private static Dictionary<string, object> Root(string root, List<Dictionary<string, object>> tensors)
        => new() { ["root"] = root, ["tensors"] = tensors };
}
