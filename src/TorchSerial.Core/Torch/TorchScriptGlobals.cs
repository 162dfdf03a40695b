using TorchSerial.Pickle;
using TorchSerial.Python;

namespace TorchSerial.Torch;

/// <summary>
/// The hooks for the pickles of a TorchScript archive. Script classes (<c>__torch__.*</c>) become inert objects,
/// whatever the policy: their code is text in <c>code/</c> that we never run, and an inert record of their state is
/// all we read. Every other global (torch.jit._pickle's markers included) meets the checkpoint policy as in
/// torch.save files.
/// </summary>
internal static class TorchScriptGlobals
{
    private const string ScriptPrefix = "__torch__.";

    /// <summary>
    /// Whether a TorchScript archive's pickles admit this global by design: a script class (its state is read as
    /// inert data). torch.jit._pickle's markers are on the default allow-list for every file. The scanner grades
    /// these Safe.
    /// </summary>
    public static bool AdmitsByDesign(string fullName) => fullName.StartsWith(ScriptPrefix, StringComparison.Ordinal);

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
                return torch.FindClass(module, name, record, offset);
            },
        };
    }
}
