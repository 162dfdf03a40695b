namespace TorchSerial.Torch;

/// <summary>
/// The Python 3 name of a global a Python 2 pickle names, as CPython's unpickler resolves it (its fix_imports tables,
/// <c>_compat_pickle</c>): whole (module, name) pairs first (<c>__builtin__.xrange</c> is <c>builtins.range</c>,
/// <c>itertools.izip</c> is <c>builtins.zip</c>), then module renames (<c>copy_reg</c> is <c>copyreg</c>). The
/// name reported for a global is the one a user admits with -AllowGlobal, so it must be the name Python would import.
/// </summary>
internal static class Python2Names
{
    private static readonly Dictionary<string, string> Modules = new(StringComparer.Ordinal)
    {
        ["__builtin__"] = "builtins", ["copy_reg"] = "copyreg", ["Queue"] = "queue", ["repr"] = "reprlib",
        ["SocketServer"] = "socketserver", ["ConfigParser"] = "configparser", ["_winreg"] = "winreg",
        ["cPickle"] = "pickle", ["cStringIO"] = "io", ["StringIO"] = "io", ["_elementtree"] = "xml.etree.ElementTree",
        ["UserDict"] = "collections", ["UserList"] = "collections", ["UserString"] = "collections",
        ["_abcoll"] = "collections.abc", ["commands"] = "subprocess", ["thread"] = "_thread",
        ["dummy_thread"] = "_dummy_thread", ["markupbase"] = "_markupbase", ["test.test_support"] = "test.support",
        ["urlparse"] = "urllib.parse", ["robotparser"] = "urllib.robotparser", ["urllib2"] = "urllib.request",
        ["anydbm"] = "dbm", ["whichdb"] = "dbm", ["dbhash"] = "dbm.bsd", ["dumbdbm"] = "dbm.dumb", ["dbm"] = "dbm.ndbm",
        ["gdbm"] = "dbm.gnu", ["xmlrpclib"] = "xmlrpc.client", ["SimpleXMLRPCServer"] = "xmlrpc.server",
        ["DocXMLRPCServer"] = "xmlrpc.server", ["httplib"] = "http.client", ["htmlentitydefs"] = "html.entities",
        ["HTMLParser"] = "html.parser", ["Cookie"] = "http.cookies", ["cookielib"] = "http.cookiejar",
        ["BaseHTTPServer"] = "http.server", ["SimpleHTTPServer"] = "http.server", ["CGIHTTPServer"] = "http.server",
        ["Tkinter"] = "tkinter", ["Tix"] = "tkinter.tix", ["ttk"] = "tkinter.ttk",
            ["Tkconstants"] = "tkinter.constants",
        ["Tkdnd"] = "tkinter.dnd", ["Dialog"] = "tkinter.dialog", ["FileDialog"] = "tkinter.filedialog",
        ["tkFileDialog"] = "tkinter.filedialog", ["ScrolledText"] = "tkinter.scrolledtext",
        ["SimpleDialog"] = "tkinter.simpledialog", ["tkSimpleDialog"] = "tkinter.simpledialog",
        ["tkColorChooser"] = "tkinter.colorchooser", ["tkCommonDialog"] = "tkinter.commondialog",
        ["tkFont"] = "tkinter.font", ["tkMessageBox"] = "tkinter.messagebox",
        // torch's own rename, applied by torch.load: torch.tensor (≤ 1.7) became torch._tensor.
        ["torch.tensor"] = "torch._tensor",
    };

    // Python 2's exceptions module: each of these names is the builtin of the same name in Python 3.
    private static readonly string[] Exceptions =
    {
        "ArithmeticError", "AssertionError", "AttributeError", "BaseException", "BufferError", "BytesWarning",
        "DeprecationWarning", "EOFError", "EnvironmentError", "Exception", "FloatingPointError", "FutureWarning",
        "GeneratorExit", "IOError", "ImportError", "ImportWarning", "IndentationError", "IndexError", "KeyError",
        "KeyboardInterrupt", "LookupError", "MemoryError", "NameError", "NotImplementedError", "OSError",
        "OverflowError", "PendingDeprecationWarning", "ReferenceError", "RuntimeError", "RuntimeWarning",
        "StopIteration", "SyntaxError", "SyntaxWarning", "SystemError", "SystemExit", "TabError", "TypeError",
        "UnboundLocalError", "UnicodeDecodeError", "UnicodeEncodeError", "UnicodeError", "UnicodeTranslateError",
        "UnicodeWarning", "UserWarning", "ValueError", "Warning", "ZeroDivisionError",
    };

    // After Exceptions: static fields initialise in the order they are written.
    private static readonly Dictionary<(string Module, string Name), string> Pairs = BuildPairs();

    /// <summary>The full dotted Python 3 name for <paramref name="module"/>.<paramref name="name"/>.</summary>
    public static string Resolve(string module, string name)
    {
        if (Pairs.TryGetValue((module, name), out var full)) return full;
        return (Modules.TryGetValue(module, out var m) ? m : module) + "." + name;
    }

    private static Dictionary<(string, string), string> BuildPairs()
    {
        var map = new Dictionary<(string, string), string>();
        void Add(string module, string name, string to) => map[(module, name)] = to;
        Add("__builtin__", "xrange", "builtins.range");
        Add("__builtin__", "reduce", "functools.reduce");
        Add("__builtin__", "intern", "sys.intern");
        Add("__builtin__", "unichr", "builtins.chr");
        Add("__builtin__", "unicode", "builtins.str");
        Add("__builtin__", "long", "builtins.int");
        Add("__builtin__", "basestring", "builtins.str");
        Add("itertools", "izip", "builtins.zip");
        Add("itertools", "imap", "builtins.map");
        Add("itertools", "ifilter", "builtins.filter");
        Add("itertools", "ifilterfalse", "itertools.filterfalse");
        Add("itertools", "izip_longest", "itertools.zip_longest");
        Add("UserDict", "UserDict", "collections.UserDict");
        Add("UserDict", "IterableUserDict", "collections.UserDict");
        Add("UserList", "UserList", "collections.UserList");
        Add("UserString", "UserString", "collections.UserString");
        Add("whichdb", "whichdb", "dbm.whichdb");
        Add("_socket", "fromfd", "socket.fromfd");
        Add("socket", "_socketobject", "socket.SocketType");
        Add("_multiprocessing", "Connection", "multiprocessing.connection.Connection");
        Add("multiprocessing.process", "Process", "multiprocessing.context.Process");
        Add("multiprocessing.forking", "Popen", "multiprocessing.popen_fork.Popen");
        foreach (var n in new[] { "AuthenticationError", "BufferTooShort", "ProcessError", "TimeoutError" })
            Add("multiprocessing", n, "multiprocessing.context." + n);
        Add("urllib", "ContentTooShortError", "urllib.error.ContentTooShortError");
        foreach (var n in new[] { "getproxies", "pathname2url", "url2pathname", "urlcleanup", "urlopen",
            "urlretrieve" })
            Add("urllib", n, "urllib.request." + n);
        foreach (var n in new[] { "quote", "quote_plus", "unquote", "unquote_plus", "urlencode" })
            Add("urllib", n, "urllib.parse." + n);
        foreach (var n in new[] { "HTTPError", "URLError" }) Add("urllib2", n, "urllib.error." + n);
        foreach (var n in Exceptions) Add("exceptions", n, "builtins." + n);
        Add("exceptions", "StandardError", "builtins.Exception");
        return map;
    }
}
