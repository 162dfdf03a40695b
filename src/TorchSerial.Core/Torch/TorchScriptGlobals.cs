using TorchSerial.Pickle;
using TorchSerial.Python;

namespace TorchSerial.Torch;

/// <summary>
/// The hooks for the pickles of a TorchScript archive. Script classes (<c>__torch__.*</c>) become inert objects,
/// whatever the policy: their code is text in <c>code/</c> that we never run, and an inert record of their state is
/// all we read. <c>torch.jit._pickle</c>'s list and type-tag markers give back the value they wrap. Every other
/// global meets the checkpoint policy as in torch.save files.
/// </summary>
internal static class TorchScriptGlobals
{
    private const string ScriptPrefix = "__torch__.";

    private static readonly Dictionary<string, Callable> Markers = new[]
    {
        "restore_type_tag", "build_intlist", "build_tensorlist", "build_doublelist", "build_boollist",
    }.ToDictionary(n => "torch.jit._pickle." + n, n => new Callable("torch.jit._pickle." + n, a => a.Count > 0 ? a[0]
        : null));

    /// <summary>
    /// Whether a TorchScript archive's pickles admit this global by design: a script class (its state is read as
    /// inert data) or one of torch.jit._pickle's markers (they return what they wrap). The scanner grades these Safe.
    /// </summary>
    public static bool AdmitsByDesign(string fullName)
        => fullName.StartsWith(ScriptPrefix, StringComparison.Ordinal) || Markers.ContainsKey(fullName);

    public static PickleHooks Hooks(GlobalPolicy policy, Func<object?, object?> persistentLoad)
    {
        var torch = TorchGlobals.Hooks(policy, persistentLoad);
        return new PickleHooks
        {
            FullName = torch.FullName,
            PersistentLoad = persistentLoad,
            Build = torch.Build,
            FindClass = (module, name, record, offset) =>
            {
                string full = TorchGlobals.Canonical(module, name);
                if (full.StartsWith(ScriptPrefix, StringComparison.Ordinal)) return new PyGlobal(module, name);
                if (Markers.TryGetValue(full, out var marker)) return marker;
                return torch.FindClass(module, name, record, offset);
            },
        };
    }
}
