using TorchSerial.Errors;
using TorchSerial.Pickle;
using TorchSerial.Python;

namespace TorchSerial.Torch;

/// <summary>
/// A legacy whole-model pickle's reference to an nn.Module class: the persistent id
/// <c>('module', class, source_file, source)</c> torch's legacy writer made so a load could warn when the class's
/// source
/// had changed. Kept as an inert record (the class by name, its file and its source text); nothing is imported or run.
/// torch ≥ 2.6 with weights_only=True refuses these ids, and so does a default load here: the class global must be
/// admitted first, as any class must.
/// </summary>
public sealed class ModuleSource : PyGlobal
{
    // A class reference like any admitted global (the pickle instantiates it into an inert PyObject, whose Type is
    // this record), with the source that came with it.
    internal ModuleSource(string module, string name, string? sourceFile, string? source) : base(module, name)
    {
        SourceFile = sourceFile;
        Source = source;
    }

    /// <summary>The file the class was defined in, on the machine that saved it.</summary>
    public string? SourceFile { get; }

    /// <summary>The class's source text, as it was when saved.</summary>
    public string? Source { get; }

    public override string ToString() => $"{FullName} (class with source, inert)";

    /// <summary>Decodes <c>('module', class, source_file, source)</c>; null when <paramref name="pid"/> is not
    /// one.</summary>
    internal static ModuleSource? TryParse(object? pid, string record)
    {
        if (pid is not PyTuple { Count: 4 } t || !(t[0] is "module" || t[0] is byte[] b
            && b.SequenceEqual("module"u8.ToArray())))
            return null;
        string name = t[1] switch
        {
            PyGlobal g => g.FullName,
            Callable c => c.FullName,
            _ => throw Fail.Data(ErrorIds.InvalidPersistentId,
                $"A module persistent id in '{record}' names {PickleArgs.Describe(t[1])} instead of a class.", record),
        };
        int dot = name.LastIndexOf('.');
        return new ModuleSource(name[..Math.Max(0, dot)], name[(dot + 1)..], t[2] as string, t[3] as string);
    }
}
