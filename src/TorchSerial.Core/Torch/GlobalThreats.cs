namespace TorchSerial.Torch;

/// <summary>How much a global a pickle names can do, graded as security scanners grade it.</summary>
public enum GlobalSeverity
{
    /// <summary>On the allow-list: builds data (rebuild functions, dtypes, OrderedDict, …).</summary>
    Safe,
    /// <summary>Outside the allow-list, and not known to do harm by itself (a user's class, a harmless
    /// builtin).</summary>
    Unknown,
    /// <summary>Not harmful alone, but a building block of attacks (partial, reduce, attribute getters).</summary>
    Suspicious,
    /// <summary>Runs processes or code, touches files or the network, unpickles nested data, imports modules.</summary>
    Dangerous,
}

/// <summary>What a global is: its severity, the family of harm it belongs to, why, and the real name it resolves
/// to.</summary>
public sealed record GlobalThreat(GlobalSeverity Severity, string Family, string Reason, string ResolvedName);

/// <summary>
/// The maintained table of what globals can do, by family (process execution, code evaluation, file and network
/// access, deserialization, import machinery, attribute access). Aliases and attribute chains are resolved first, so
/// <c>_pickle.loads</c>, <c>pathlib.os.system</c>, <c>torch.serialization.os.system</c> and
/// <c>builtins.eval.__call__</c> get the text their real names get.
/// </summary>
public static class GlobalThreats
{
    private const string Process = "process execution", Code = "code evaluation", Files = "file access",
        Network = "network access", Deserialize = "deserialization", Imports = "import machinery",
        Attributes = "attribute access", Exit = "process control";

    // (name, module prefix ending in '.' or name prefix ending in '*', family, reason). First match wins, so
    // specific names come before prefixes.
    private static readonly (string Pattern, GlobalSeverity Severity, string Family, string Reason)[] Table =
    {
        ("os.system", GlobalSeverity.Dangerous, Process, "executes a shell command"),
        ("os.popen", GlobalSeverity.Dangerous, Process, "executes a shell command"),
        ("os.exec*", GlobalSeverity.Dangerous, Process, "replaces the process with another program"),
        ("os.spawn*", GlobalSeverity.Dangerous, Process, "starts a program"),
        ("os.posix_spawn*", GlobalSeverity.Dangerous, Process, "starts a program"),
        ("os.fork*", GlobalSeverity.Dangerous, Process, "forks the process"),
        ("os.kill", GlobalSeverity.Dangerous, Process, "signals processes"),
        ("os._exit", GlobalSeverity.Dangerous, Exit, "ends the process"),
        ("os.remove", GlobalSeverity.Dangerous, Files, "deletes files"),
        ("os.unlink", GlobalSeverity.Dangerous, Files, "deletes files"),
        ("os.rmdir", GlobalSeverity.Dangerous, Files, "deletes folders"),
        ("os.rename", GlobalSeverity.Dangerous, Files, "moves files"),
        ("os.", GlobalSeverity.Dangerous, Process, "reaches the operating system (torch blocks the os module)"),
        ("subprocess.", GlobalSeverity.Dangerous, Process, "starts a process"),
        ("_posixsubprocess.", GlobalSeverity.Dangerous, Process, "starts a process"),
        ("pty.", GlobalSeverity.Dangerous, Process, "starts a program in a terminal"),
        ("commands.", GlobalSeverity.Dangerous, Process, "executes a shell command"),
        ("asyncio.subprocess.", GlobalSeverity.Dangerous, Process, "starts a process"),
        ("asyncio.create_subprocess_*", GlobalSeverity.Dangerous, Process, "starts a process"),
        ("asyncio.unix_events.", GlobalSeverity.Dangerous, Process, "asyncio internals that start processes"),
        ("asyncio.windows_events.", GlobalSeverity.Dangerous, Process, "asyncio internals that start processes"),
        ("asyncio.base_events.", GlobalSeverity.Dangerous, Process, "asyncio internals that start processes"),
        ("multiprocessing.", GlobalSeverity.Dangerous, Process, "starts processes"),
        ("webbrowser.", GlobalSeverity.Dangerous, Process, "opens programs"),
        ("mailcap.", GlobalSeverity.Dangerous, Process, "runs the shell commands of mail capabilities"),
        ("pydoc.locate", GlobalSeverity.Dangerous, Imports, "imports any module and reaches any attribute"),
        ("pydoc.", GlobalSeverity.Dangerous, Process, "runs pager commands and imports modules"),
        ("pip.", GlobalSeverity.Dangerous, Process, "installs packages, running their build code"),
        ("ensurepip.", GlobalSeverity.Dangerous, Process, "runs pip, which installs and runs packages"),
        ("venv.", GlobalSeverity.Dangerous, Process, "creates environments and runs commands"),
        ("distutils.", GlobalSeverity.Dangerous, Process, "writes files and spawns compilers"),
        ("setuptools.", GlobalSeverity.Dangerous, Process, "builds and installs packages, running their code"),
        ("torch.utils.collect_env.", GlobalSeverity.Dangerous, Process, "runs shell commands"),
        ("torch.utils.cpp_extension.", GlobalSeverity.Dangerous, Process, "compiles and loads native code"),
        ("torch._inductor.", GlobalSeverity.Dangerous, Process, "compiles and runs generated code"),
        ("torch.utils.bottleneck.", GlobalSeverity.Dangerous, Code, "runs the code it is given under profilers"),
        ("torch._dynamo.", GlobalSeverity.Dangerous, Code, "evaluates guard and graph code"),
        ("torch.fx.experimental.symbolic_shapes.", GlobalSeverity.Dangerous, Code, "evaluates guard expressions"),
        ("torch.jit.unsupported_tensor_ops.", GlobalSeverity.Dangerous, Code, "executes Python code"),
        ("torch.utils._config_module.", GlobalSeverity.Dangerous, Deserialize, "unpickles configuration bytes"),
        ("torch.utils.data.datapipes.utils.decoder.", GlobalSeverity.Dangerous, Deserialize,
            "decodes data with pickle and other unsafe decoders"),
        ("numpy.testing.", GlobalSeverity.Dangerous, Code, "executes Python code"),
        ("numpy.f2py.", GlobalSeverity.Dangerous, Process, "compiles and runs native code"),
        ("builtins.eval", GlobalSeverity.Dangerous, Code, "evaluates Python code"),
        ("builtins.exec", GlobalSeverity.Dangerous, Code, "executes Python code"),
        ("builtins.compile", GlobalSeverity.Dangerous, Code, "compiles Python code"),
        ("builtins.breakpoint", GlobalSeverity.Dangerous, Code, "starts the debugger"),
        ("builtins.__build_class__", GlobalSeverity.Dangerous, Code, "builds classes from code"),
        ("code.", GlobalSeverity.Dangerous, Code, "runs an interactive interpreter"),
        ("idlelib.", GlobalSeverity.Dangerous, Code, "IDLE's shell, debugger and completion run or evaluate code"),
        ("doctest.", GlobalSeverity.Dangerous, Code, "runs code under the debugger"),
        ("lib2to3.", GlobalSeverity.Dangerous, Code, "evaluates grammar text and unpickles grammar files"),
        ("codeop.", GlobalSeverity.Dangerous, Code, "compiles Python code"),
        ("runpy.", GlobalSeverity.Dangerous, Code, "runs Python modules"),
        ("timeit.", GlobalSeverity.Dangerous, Code, "executes Python code"),
        ("pdb.", GlobalSeverity.Dangerous, Code, "runs code under the debugger"),
        ("bdb.", GlobalSeverity.Dangerous, Code, "runs code under the debugger"),
        ("cProfile.", GlobalSeverity.Dangerous, Code, "executes Python code"),
        ("profile.", GlobalSeverity.Dangerous, Code, "executes Python code"),
        ("trace.", GlobalSeverity.Dangerous, Code, "executes Python code"),
        ("ctypes.", GlobalSeverity.Dangerous, Code, "calls native code"),
        ("types.CodeType", GlobalSeverity.Dangerous, Code, "builds code objects"),
        ("types.FunctionType", GlobalSeverity.Dangerous, Code, "builds functions from code"),
        ("builtins.open", GlobalSeverity.Dangerous, Files, "opens files"),
        ("io.open", GlobalSeverity.Dangerous, Files, "opens files"),
        ("io.FileIO", GlobalSeverity.Dangerous, Files, "opens files"),
        ("io.open_code", GlobalSeverity.Dangerous, Files, "opens files"),
        ("io.", GlobalSeverity.Suspicious, Files, "builds stream objects, files among them"),
        ("shutil.", GlobalSeverity.Dangerous, Files, "copies, moves and deletes files"),
        ("pathlib.", GlobalSeverity.Dangerous, Files, "reads and writes files"),
        ("tempfile.", GlobalSeverity.Dangerous, Files, "creates files"),
        ("glob.", GlobalSeverity.Dangerous, Files, "lists files"),
        ("tarfile.", GlobalSeverity.Dangerous, Files, "reads and writes archives"),
        ("zipfile.", GlobalSeverity.Dangerous, Files, "reads and writes archives"),
        ("socket.", GlobalSeverity.Dangerous, Network, "opens network connections"),
        ("ssl.", GlobalSeverity.Dangerous, Network, "opens network connections"),
        ("urllib.", GlobalSeverity.Dangerous, Network, "downloads and uploads over the network"),
        ("http.", GlobalSeverity.Dangerous, Network, "makes network requests"),
        ("ftplib.", GlobalSeverity.Dangerous, Network, "makes network requests"),
        ("smtplib.", GlobalSeverity.Dangerous, Network, "sends mail"),
        ("telnetlib.", GlobalSeverity.Dangerous, Network, "opens network connections"),
        ("requests.", GlobalSeverity.Dangerous, Network, "makes network requests"),
        ("httpx.", GlobalSeverity.Dangerous, Network, "makes network requests"),
        ("aiohttp.", GlobalSeverity.Dangerous, Network, "makes network requests"),
        ("pickle.", GlobalSeverity.Dangerous, Deserialize, "runs a nested unpickler, which can do anything"),
        ("marshal.", GlobalSeverity.Dangerous, Deserialize, "loads code objects"),
        ("dill.", GlobalSeverity.Dangerous, Deserialize, "runs a nested unpickler, which can do anything"),
        ("cloudpickle.", GlobalSeverity.Dangerous, Deserialize, "runs a nested unpickler, which can do anything"),
        ("shelve.", GlobalSeverity.Dangerous, Deserialize, "runs a nested unpickler on a file"),
        ("joblib.", GlobalSeverity.Dangerous, Deserialize, "runs a nested unpickler on a file"),
        ("numpy.load", GlobalSeverity.Dangerous, Deserialize, "loads a file, pickles included"),
        ("torch.load", GlobalSeverity.Dangerous, Deserialize, "loads another checkpoint, unsafely"),
        ("torch.serialization.load", GlobalSeverity.Dangerous, Deserialize, "loads another checkpoint, unsafely"),
        ("torch.serialization._load", GlobalSeverity.Dangerous, Deserialize, "loads another checkpoint, unsafely"),
        ("torch.serialization._legacy_load", GlobalSeverity.Dangerous, Deserialize,
            "loads another checkpoint, unsafely"),
        ("torch.storage._load_from_bytes", GlobalSeverity.Dangerous, Deserialize,
            "unpickles bytes with torch.load, unsafely"),
        ("torch.serialization._load_from_bytes", GlobalSeverity.Dangerous, Deserialize,
            "unpickles bytes with torch.load, unsafely"),
        ("torch.jit.load", GlobalSeverity.Dangerous, Deserialize, "loads and runs TorchScript"),
        ("torch.hub.", GlobalSeverity.Dangerous, Network, "downloads and runs code"),
        ("yaml.load", GlobalSeverity.Dangerous, Deserialize, "loads YAML that can build any object"),
        ("builtins.__import__", GlobalSeverity.Dangerous, Imports, "imports arbitrary modules"),
        ("importlib.", GlobalSeverity.Dangerous, Imports, "imports arbitrary modules"),
        ("pkgutil.", GlobalSeverity.Dangerous, Imports, "imports arbitrary modules"),
        ("imp.", GlobalSeverity.Dangerous, Imports, "imports arbitrary modules"),
        ("zipimport.", GlobalSeverity.Dangerous, Imports, "imports code from archives"),
        ("sys.", GlobalSeverity.Dangerous, Imports, "reaches the interpreter's state (torch blocks the sys module)"),
        ("signal.", GlobalSeverity.Dangerous, Exit, "sends signals to processes"),
        ("builtins.exit", GlobalSeverity.Dangerous, Exit, "ends the process"),
        ("builtins.quit", GlobalSeverity.Dangerous, Exit, "ends the process"),
        ("builtins.getattr", GlobalSeverity.Dangerous, Attributes, "reaches arbitrary attributes, methods included"),
        ("builtins.setattr", GlobalSeverity.Dangerous, Attributes, "changes arbitrary attributes"),
        ("builtins.delattr", GlobalSeverity.Dangerous, Attributes, "deletes arbitrary attributes"),
        ("builtins.globals", GlobalSeverity.Dangerous, Attributes, "reaches the interpreter's globals"),
        ("builtins.vars", GlobalSeverity.Dangerous, Attributes, "reaches objects' attributes"),
        ("operator.attrgetter", GlobalSeverity.Dangerous, Attributes, "reaches arbitrary attributes"),
        ("operator.methodcaller", GlobalSeverity.Dangerous, Attributes, "calls arbitrary methods"),
        ("functools.partial", GlobalSeverity.Suspicious, Attributes, "wraps a callable with arguments: a building " +
            "block of attacks"),
        ("functools.reduce", GlobalSeverity.Suspicious, Attributes, "applies a callable repeatedly: a building block " +
            "of attacks"),
        ("operator.", GlobalSeverity.Suspicious, Attributes, "calls or reaches into objects: a building block of " +
            "attacks"),
        ("copyreg._reconstructor", GlobalSeverity.Suspicious, Attributes, "builds any class's instance (protocol 0 " +
            "and 1 pickles of ordinary objects use it)"),
        ("builtins.object", GlobalSeverity.Suspicious, Attributes, "the base of every object, used to build instances"),
        ("builtins.", GlobalSeverity.Suspicious, Attributes, "a Python builtin: harmless alone, but not data"),
    };

    // Modules an attribute chain may reach through another module (pathlib.os.system is os.system).
    private static readonly HashSet<string> ReachableModules = new(StringComparer.Ordinal)
    {
        "os", "posix", "nt", "sys", "subprocess", "builtins", "pickle", "marshal", "shutil", "socket", "io",
        "importlib", "runpy", "pty", "ctypes",
    };

    private static readonly Dictionary<string, string> ModuleAliases = new(StringComparer.Ordinal)
    {
        ["_pickle"] = "pickle", ["_io"] = "io", ["_operator"] = "operator", ["_functools"] = "functools",
        ["_socket"] = "socket", ["_ssl"] = "ssl", ["_ctypes"] = "ctypes", ["_imp"] = "imp",
        ["_marshal"] = "marshal", ["_thread"] = "_thread", ["_signal"] = "signal",
        // os.system is pickled as posix.system (or nt.system): os re-exports the platform module.
        ["posix"] = "os", ["nt"] = "os",
    };

    /// <summary>The severity, family and reason of a global, by its resolved real name.</summary>
    /// <param name="fullName">module.name as the pickle names it (after Python 2 renames).</param>
    /// <param name="allowed">Whether the policy admits it (an allowed global is Safe).</param>
    public static GlobalThreat Classify(string fullName, bool allowed = false)
    {
        string real = Resolve(fullName);
        if (allowed && real == fullName)
            return new GlobalThreat(GlobalSeverity.Safe, "data", "on the allow-list: builds data", real);
        foreach (var (pattern, severity, family, reason) in Table)
            if (Matches(real, pattern))
                return new GlobalThreat(severity, family, real == fullName ? reason : $"{reason} (it is {real})", real);
        if (allowed) return new GlobalThreat(GlobalSeverity.Safe, "data", "admitted with -AllowGlobal", real);
        return new GlobalThreat(GlobalSeverity.Unknown, "unknown",
            "not on the allow-list: a class or function torch.load would import and call", real);
    }

    /// <summary>" (executes a shell command)" for a harmful global, or an empty string.</summary>
    internal static string Explain(string fullName)
        => Classify(fullName) is { Severity: GlobalSeverity.Dangerous or GlobalSeverity.Suspicious } t
            ? $" ({t.Reason})" : "";

    // "os." is a module prefix and "os.exec*" a name prefix (os.execv, os.execvp); "os.system" is that name or an
    // attribute of it (os.system.__call__), never os.systemd.
    private static bool Matches(string name, string pattern) => pattern[^1] switch
    {
        '.' => name.StartsWith(pattern, StringComparison.Ordinal),
        '*' => name.StartsWith(pattern.AsSpan(0, pattern.Length - 1), StringComparison.Ordinal),
        _ => name.StartsWith(pattern, StringComparison.Ordinal)
            && (name.Length == pattern.Length || name[pattern.Length] == '.'),
    };

    /// <summary>
    /// The real name of an alias or an attribute chain: a private module is its public one (_pickle is pickle), a
    /// module reached through another (pathlib.os, torch.serialization.os) is itself, and a dotted attribute of a
    /// function (eval.__call__) is the function.
    /// </summary>
    public static string Resolve(string fullName)
    {
        var parts = fullName.Split('.');
        // The last module along the chain that is one of the reachable ones starts the real name.
        int start = 0;
        for (int i = 1; i < parts.Length - 1; i++) if (ReachableModules.Contains(parts[i])) start = i;
        if (ModuleAliases.TryGetValue(parts[start], out var alias)) parts[start] = alias;
        var real = parts[start..].ToList();
        // Dunder attributes of a function or method (__call__, __func__, __self__ …) are the function itself.
        while (real.Count > 2 && real[^1].StartsWith("__", StringComparison.Ordinal) && real[^1].EndsWith("__",
            StringComparison.Ordinal))
            real.RemoveAt(real.Count - 1);
        return string.Join('.', real);
    }
}
