using System.Text;
using TorchSerial.Containers;
using TorchSerial.Errors;
using TorchSerial.Pickle;
using TorchSerial.Python;
using TorchSerial.Tensors;
using TorchSerial.Torch;

namespace TorchSerial.Reading;

/// <summary>
/// Reads the weights of a TorchScript archive (torch.jit.save) without running any of it (formats-next.md §4.3):
/// <c>data.pkl</c> and <c>constants.pkl</c> are unpickled with script classes as inert objects, the class headers of
/// <c>code/</c> say which attributes are parameters and buffers, and the module tree is walked into the names
/// <c>module.state_dict()</c> gives. The object is that state_dict; the code's tensor constants are listed apart.
/// </summary>
internal static class TorchScriptSource
{
    /// <summary>The most source text read for class headers; real archives hold a few MB.</summary>
    private const long MaxCodeBytes = 64L << 20;

    public static LoadedGraph Load(ZipDirectory dir, Func<string, string> r, IReadOnlyList<string> records,
        StorageSettings settings, LoadOptions options)
    {
        PickleHooks Hooks(Func<object?, object?> load) => TorchScriptGlobals.Hooks(options.Policy, load);

        var constantResolver = new StorageResolver(settings);
        var (constants, _) = ZipCheckpointSource.RunPickle(dir, r, "constants.pkl", "constants/", constantResolver,
            options, Hooks);
        var resolver = new StorageResolver(settings, expected: dir.Entries.Count);
        var (module, protocol) = ZipCheckpointSource.RunPickle(dir, r, "data.pkl", "data/", resolver, options, Hooks);

        var classes = ReadClasses(dir, r, records);
        if (module is not PyObject top || !classes.ContainsKey(top.Type.FullName))
            throw Fail.Data(ErrorIds.TorchScriptStructure,
                $"The archive's data.pkl holds " +
                    $"{(module is PyObject o ? $"an object of '{o.Type.FullName}'" : (module is null ? "None" : module.GetType().Name))}, " +
                "not a script module whose class the archive's code declares, so its weights cannot be named.",
                    "data.pkl");
        var stateDict = ScriptModuleWalker.StateDict(module, classes);
        var root = new PyDict { PythonType = "collections.OrderedDict" };
        foreach (var (name, t) in stateDict) root.SetItem(name, t);

        var constantTensors = new List<Tensor>();
        if (constants is PyTuple tuple)
            for (int i = 0; i < tuple.Count; i++)
                if (tuple[i] is Tensor c)
                {
                    var named = constantTensors.Contains(c) ? c.WithName("") : c;
                    named.Name = "c" + i; // the code calls them CONSTANTS.c0, c1, …
                    constantTensors.Add(named);
                }
        var storages = resolver.Storages.Concat(constantResolver.Storages).ToList();
        return new LoadedGraph(CheckpointFormat.TorchScript, root, storages, records)
        {
            PickleProtocol = protocol, Tensors = stateDict.Select(e => e.Value).ToList(), Constants = constantTensors,
        };
    }

    private static Dictionary<string, ScriptModuleClass> ReadClasses(ZipDirectory dir, Func<string, string> r,
        IReadOnlyList<string> records)
    {
        var classes = new Dictionary<string, ScriptModuleClass>(StringComparer.Ordinal);
        long read = 0;
        foreach (var record in records)
        {
            if (TorchScriptClasses.ModuleOf(record) is not { } module) continue;
            var entry = dir.Find(r(record))!;
            read += entry.UncompressedSize;
            if (read > MaxCodeBytes)
                throw Fail.Data(ErrorIds.TorchScriptStructure,
                    $"The archive's code records hold more than {MaxCodeBytes >> 20} MiB of source; no real archive " +
                        $"does, so it is refused.", record);
            TorchScriptClasses.Read(module, Encoding.UTF8.GetString(dir.ReadAll(entry)), classes);
        }
        return classes;
    }
}
