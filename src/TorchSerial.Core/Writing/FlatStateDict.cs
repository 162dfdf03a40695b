using System.Collections;
using TorchSerial.Errors;
using TorchSerial.Tensors;

namespace TorchSerial.Writing;

/// <summary>
/// The one shape safetensors holds, and the one a shard holds: a flat dict of name → tensor, in order. Anything else
/// is refused with what to do instead, as <c>save_file</c> refuses it.
/// </summary>
internal static class FlatStateDict
{
    public static List<KeyValuePair<string, Tensor>> From(object? root, Func<object?, object?>? normalize,
        string format)
    {
        object? Plain(object? o) => normalize is null ? o : normalize(o);
        if (Plain(root) is not IDictionary dict)
            throw Refuse($"{format} holds a flat dict of name → tensor, but the object to save is " +
                $"{(root is null ? "None" : Plain(root)!.GetType().Name)}. Pipe the tensors instead " +
                    $"(Import-TorchCheckpoint x.pt | Save-Tensor y).");
        var entries = new List<KeyValuePair<string, Tensor>>(dict.Count);
        foreach (DictionaryEntry e in dict)
        {
            if (Plain(e.Key) is not string name)
                throw Refuse($"{format} names tensors by strings, but the dict has the key {Plain(e.Key)} " +
                    $"({Plain(e.Key)?.GetType().Name}).");
            if (Plain(e.Value) is SparseTensor s)
                throw Refuse($"{format} holds dense tensors only, and '{name}' is {s.Layout}. Save it as a torch " +
                    "file (-Format Torch), or make it dense in torch first (t.to_dense()).");
            if (Plain(e.Value) is Tensor { IsMeta: true })
                throw Refuse($"{format} stores every tensor's data, and '{name}' is a meta tensor, which has none. " +
                    "Save it as a torch file (-Format Torch), which keeps meta tensors as torch does.");
            if (Plain(e.Value) is not Tensor t)
            {
                string what = Plain(e.Value) is { } v ? v.GetType().Name : "None";
                throw Refuse($"{format} holds only tensors, but '{name}' is {what}. " +
                    "Select the tensors (Import-TorchCheckpoint -Key model), or save the whole object as a torch " +
                        "file.");
            }
            entries.Add(new(name, t));
        }
        return entries;
    }

    private static TorchSerialException Refuse(string message) => new(ErrorIds.InvalidSaveInput, ErrorKind.InvalidData,
        message);
}
