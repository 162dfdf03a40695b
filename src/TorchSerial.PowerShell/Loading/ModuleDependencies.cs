using System.Management.Automation;
using System.Reflection;
using System.Runtime.Loader;

namespace TorchSerial.PowerShell.Loading;

/// <summary>
/// Finds the module's dependencies in <c>lib/&lt;framework&gt;/</c>, for the .NET that pwsh runs on. ReadyToRun code is
/// used only on the .NET it was compiled for, so the core ships compiled for .NET 8 (pwsh 7.4, 7.5) and .NET 10 (pwsh
/// 7.6); the runtime would JIT the other one's code. TorchSerial.Core loads into the default context, so its types
/// are PowerShell type literals (<c>[TorchSerial.Tensors.Tensor]</c>); ILGPU, System.IO.Hashing and ZstdSharp load into
/// a context of the module's own, where another module's copy of them cannot replace ours.
/// </summary>
public sealed class ModuleDependencies : IModuleAssemblyInitializer
{
    private static readonly string Lib = PickLibrary();
    private static readonly DependencyContext Private = new(Lib);
    private static int _registered;

    /// <summary>Registers the resolver and loads the core, once per process (every runspace's import calls this):
    /// a type literal such as <c>[TorchSerial.Reading.LoadOptions]</c> finds only assemblies already loaded.</summary>
    public void OnImport()
    {
        if (Interlocked.Exchange(ref _registered, 1) != 0) return;
        AssemblyLoadContext.Default.Resolving += Resolve;
        AssemblyLoadContext.Default.LoadFromAssemblyName(new AssemblyName("TorchSerial.Core"));
    }

    private static Assembly? Resolve(AssemblyLoadContext context, AssemblyName name)
    {
        string path = Path.Combine(Lib, name.Name + ".dll");
        if (!File.Exists(path)) return null;
        return name.Name == "TorchSerial.Core"
            ? context.LoadFromAssemblyPath(path) : Private.LoadFromAssemblyPath(path);
    }

    // lib/net10.0 on .NET 10 and later, lib/net8.0 otherwise (or where a build shipped only that one).
    private static string PickLibrary()
    {
        string root = Path.Combine(Path.GetDirectoryName(typeof(ModuleDependencies).Assembly.Location)!, "lib");
        string newest = Path.Combine(root, "net10.0");
        return Environment.Version.Major >= 10 && Directory.Exists(newest) ? newest : Path.Combine(root, "net8.0");
    }

    /// <summary>The module's own context: what it holds resolves from the module's folder first.</summary>
    private sealed class DependencyContext(string folder) : AssemblyLoadContext("TorchSerial dependencies")
    {
        protected override Assembly? Load(AssemblyName name)
        {
            string path = Path.Combine(folder, name.Name + ".dll");
            // The core is the default context's (where PowerShell finds its types); the framework, too.
            return name.Name != "TorchSerial.Core" && File.Exists(path) ? LoadFromAssemblyPath(path) : null;
        }
    }
}
