using TorchSerial.Torch;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Runtime.CompilerServices;

namespace TorchSerial.PowerShell;

/// <summary>
/// The location handlers registered with Register-TorchLocation, one registry per runspace: a handler is a
/// script block bound to the runspace that registered it, so it must never run in another one
/// (ForEach-Object -Parallel, background jobs). Runspaces without registrations use torch's built-ins.
/// </summary>
internal static class RunspaceLocations
{
    private static readonly ConditionalWeakTable<Runspace, LocationRegistry> Registries = new();

    public static LocationRegistry Current
        => Runspace.DefaultRunspace is { } rs && Registries.TryGetValue(rs, out var r) ? r : LocationRegistry.BuiltIn;

    public static LocationRegistry ForChange()
        => Registries.GetValue(Runspace.DefaultRunspace
            ?? throw new InvalidOperationException("No runspace."), _ => new LocationRegistry());

    /// <summary>Calls a script block and returns its first output, unwrapped (script blocks run on the pipeline thread
    /// here).</summary>
    public static object? First(ScriptBlock block, params object?[] args)
    {
        var output = block.Invoke(args);
        return output.Count == 0 ? null : output[0]?.BaseObject;
    }
}
