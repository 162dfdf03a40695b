using System.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace TorchSerial.Judge;

/// <summary>
/// LibTorch's own torch.save (TorchScript's builtin aten::save, which is jit::pickle_save, what C++ programs calling
/// torch::pickle_save write too). TorchScript compiles free functions only and takes no strings from .NET, so the
/// path and the dict's keys are written into the function's source.
/// </summary>
internal static class TorchSave
{
    public static void Tensor(Tensor t, string path)
    {
        Checked(path);
        using var unit = torch.jit.compile($"def save(x: Tensor):\n    torch.save(x, '{path}')\n");
        unit.invoke("save", t);
    }

    /// <summary>A Dict[str, Tensor] in the given order; tensors that are views of one storage stay so.</summary>
    public static void Dict(IReadOnlyList<(string Key, Tensor Value)> items, string path)
    {
        Checked(path);
        var source = new StringBuilder("def save(");
        source.AppendJoin(", ", items.Select((_, i) => $"t{i}: Tensor")).Append("):\n    d: Dict[str, Tensor] = {");
        source.AppendJoin(", ", items.Select((item, i) => $"'{Checked(item.Key)}': t{i}")).Append("}\n");
        source.Append($"    torch.save(d, '{path}')\n");
        using var unit = torch.jit.compile(source.ToString());
        unit.invoke("save", items.Select(item => (object)item.Value).ToArray());
    }

    private static string Checked(string text) => text.IndexOfAny(['\'', '\\', '\n']) < 0 ? text
        : throw new ArgumentException($"'{text}' cannot be written into TorchScript source.");
}
