using TorchSerial.Errors;
using TorchSerial.Pickle;
using TorchSerial.Python;
using TorchSerial.Tensors;
using System.Numerics;
using System.Text;
using static TorchSerial.Pickle.PickleArgs;

namespace TorchSerial.Torch;

/// <summary>
/// Maps a pickle GLOBAL to what TorchSerial puts on the stack: a modelled <see cref="Callable"/>,
/// a <see cref="DType"/>, a <see cref="StorageType"/>, a constant (<see cref="PyGlobal"/>), or, for an
/// admitted global TorchSerial does not model, an inert <see cref="PyGlobal"/>. The policy is asked first.
/// </summary>
internal static class TorchGlobals
{
    /// <summary>torch.jit._pickle's type markers: each returns its first argument (the type it names is an
    /// annotation). Declared before <see cref="Known"/>, which registers them.</summary>
    public static readonly IReadOnlyList<string> JitPickleMarkers = new[]
    {
        "restore_type_tag", "build_intlist", "build_tensorlist", "build_doublelist", "build_boollist",
    }.Select(n => "torch.jit._pickle." + n).ToArray();

    private static readonly Dictionary<string, object> Known = BuildKnown();

    /// <summary>What torch.save writes for a rank's shard of a distributed tensor (FSDP's LOCAL_STATE_DICT).</summary>
    private const string ShardedTensor = "torch.distributed._shard.sharded_tensor.api.ShardedTensor";

    /// <summary>The hooks that give a checkpoint's pickle its torch meaning under <paramref name="policy"/>.</summary>
    public static PickleHooks Hooks(GlobalPolicy policy, Func<object?, object?> persistentLoad,
        bool borrowsPersistentId = false) => new()
    {
        BorrowsPersistentId = borrowsPersistentId,
        FullName = Canonical,
        FindClass = (module, name, record, offset) => Resolve(module, name, policy, record, offset),
        PersistentLoad = persistentLoad,
        Build = static (target, state) =>
        {
            switch (target)
            {
                case Tensor t: t.PythonState = state; return true;
                case LegacyTensor shell: shell.SetState(state); return true;
                default: return false;
            }
        },
    };

    /// <summary>The name Python 3 imports for a global (Python 2 and pre-1.8 torch names mapped).</summary>
    public static string Canonical(string module, string name) => Python2Names.Resolve(module, name);

    public static object Resolve(string module, string name, GlobalPolicy policy, string record, long offset)
    {
        string full = Canonical(module, name);
        if (full == EnumMembers.Getattr && policy.DataClasses.Count > 0) return EnumMembers.Lookup(policy);
        if (policy.Check(full) == GlobalVerdict.Refused && full == ShardedTensor)
            throw new TorchSerialException(ErrorIds.FsdpLocalShardsUnsupported, ErrorKind.NotImplemented,
                "The checkpoint holds a ShardedTensor: one rank's slice of a tensor, as FSDP's LOCAL_STATE_DICT " +
                    "saves its flattened parameters (_flat_param) one file a rank. Those files keep each rank's " +
                    "slice of the flat buffer but not the names, shapes or padding of the parameters inside it, so " +
                    "neither TorchSerial nor any other tool can unflatten them without the model. Save with " +
                    "SHARDED_STATE_DICT (a DCP folder, which TorchSerial reads whole) or FULL_STATE_DICT instead.")
            { Record = record, Offset = offset };
        if (policy.Check(full) == GlobalVerdict.Refused)
            throw new TorchSerialException(ErrorIds.UnsafeGlobal, ErrorKind.SecurityError,
                    Refusal(full, record, offset))
                { Record = record, Offset = offset };
        if (Known.TryGetValue(full, out var known)) return known;
        if (StorageTypeOf(full) is { } st) return st;
        int dot = full.LastIndexOf('.');
        return new PyGlobal(full[..dot], full[(dot + 1)..]);
    }

    /// <summary>
    /// Why a global was refused, and what to do. Only a global of unknown purpose gets the -AllowGlobal advice: one
    /// that runs commands, code, files or the network is what an attack file looks like, and the message says the
    /// file must not be loaded by torch or pickle at all (admitting it for forensics is in the help, not here).
    /// </summary>
    private static string Refusal(string full, string record, long offset)
    {
        var threat = GlobalThreats.Classify(full);
        string where = $"(pickle '{record}', offset {offset})";
        if (threat.Severity == GlobalSeverity.Dangerous)
            return $"The checkpoint references the global '{full}' {where}: unpickling it runs code that " +
                $"{threat.Reason}. The load was stopped and nothing was executed. Treat the file " +
                "as malicious: do not load it with torch.load, pickle or any tool that unpickles it, since they " +
                "would run it. " +
                "Test-TorchCheckpoint lists everything it references.";
        if (threat.Severity == GlobalSeverity.Suspicious)
            return $"The checkpoint references the global '{full}' ({threat.Reason}) {where}, which is not on " +
                "TorchSerial's allow-list and is a building block of attacks, so the load was stopped. Nothing was " +
                "executed. Inspect the file with Test-TorchCheckpoint before trusting it.";
        return $"The checkpoint references the global '{full}', which is not on TorchSerial's allow-list, so the " +
            $"load was stopped {where}. Nothing was executed. If you trust the file, load it with -AllowGlobal " +
            $"'{full}': admitted globals that TorchSerial does not model become inert objects and are never run.";
    }

    private static StorageType? StorageTypeOf(string full)
    {
        if (full == "torch.storage.UntypedStorage") return new StorageType(DType.UInt8, untyped: true);
        // Old pickles may name torch.cuda.FloatStorage; torch maps storage classes by class name only.
        if (!full.StartsWith("torch.", StringComparison.Ordinal)) return null;
        string cls = full[(full.LastIndexOf('.') + 1)..];
        return DType.FromStorageClass(cls) is { } d ? new StorageType(d, untyped: false) : null;
    }

    private static Dictionary<string, object> BuildKnown()
    {
        var k = new Dictionary<string, object>(StringComparer.Ordinal);
        void Add(string name, Func<PyTuple, object?> call, Func<PyTuple, object?>? newObj = null) =>
            k[name] = new Callable(name, call, newObj);
        // Rebuild functions that read their arguments and keep only the values in them, never the tuple.
        void AddReader(string name, Func<PyTuple, object?> call)
            => k[name] = new Callable(name, call) { BorrowsArgs = true };

        foreach (var d in DType.All) k["torch." + d.Name] = d;

        Add("torch._utils._rebuild_tensor", TensorRebuilders.RebuildTensor);
        AddReader("torch._utils._rebuild_tensor_v2", TensorRebuilders.RebuildTensorV2);
        AddReader("torch._utils._rebuild_tensor_v3", TensorRebuilders.RebuildTensorV3);
        AddReader("torch._utils._rebuild_parameter", TensorRebuilders.RebuildParameter);
        Add("torch._utils._rebuild_parameter_with_state", TensorRebuilders.RebuildParameterWithState);
        Add("torch._tensor._rebuild_from_type_v2", TensorRebuilders.RebuildFromTypeV2);
        Add("torch._utils._rebuild_qtensor", TensorRebuilders.RebuildQTensor);
        Add("torch._utils._rebuild_sparse_tensor", TensorRebuilders.RebuildSparse);
        Add("torch._utils._rebuild_sparse_csr_tensor", TensorRebuilders.RebuildSparseCsr);
        Add("torch._utils._rebuild_nested_tensor", TensorRebuilders.Unsupported("a nested tensor"));
        Add("torch._utils._rebuild_meta_tensor_no_storage", TensorRebuilders.RebuildMeta);
        Add("torch._utils._rebuild_wrapper_subclass", TensorRebuilders.Unsupported("a storage-less tensor subclass"));
        Add("torch._utils._rebuild_device_tensor_from_numpy",
            TensorRebuilders.Unsupported("a device tensor saved through NumPy (XLA and similar)"));
        Add("torch._utils._rebuild_xla_tensor",
            TensorRebuilders.Unsupported("a device tensor saved through NumPy (XLA and similar)"));
        Add("torch._utils._rebuild_device_tensor_from_cpu_tensor",
            TensorRebuilders.Unsupported("a device tensor saved through a CPU copy (XLA, MTIA and similar)"));

        foreach (var marker in JitPickleMarkers) Add(marker, a => a.Count > 0 ? a[0] : null);
        Add("collections.OrderedDict", a => FromPairs(a, "collections.OrderedDict"));
        Add("collections.Counter", a => FromPairs(a, "collections.Counter"));
        Add("builtins.set", a => ToSet(a, frozen: false));
        Add("builtins.frozenset", a => ToSet(a, frozen: true));
        Add("builtins.bytearray", ToByteArray);
        Add("builtins.complex", a =>
            { Count(a, "complex", 0, 2); return new Complex(a.Count > 0 ? Double(a[0], "real") : 0, a.Count > 1
                ? Double(a[1], "imag") : 0); });
        Add("_codecs.encode", Encode);
        // Pure constructors, reached only when -AllowGlobal admits them (they are Suspicious builtins by default):
        // they give the value torch would, as data. A protocol-2 pickle writes b'' as builtins.bytes().
        Add("builtins.bytes", ToBytes);
        Add("builtins.slice", a =>
        {
            Count(a, "slice", 1, 3);
            return a.Count == 1 ? new PySlice(null, a[0], null) : new PySlice(a[0], a[1], a.Count > 2 ? a[2] : null);
        });
        Add("builtins.range", ToRange);
        Add("builtins.int", ToInt);
        Add("builtins.float", a => ToFloat(a));
        Add("builtins.str", a => { Count(a, "str", 0, 1); return a.Count == 0 ? "" : PyRepr.Str(a[0]); });
        Add("builtins.bool", a => { Count(a, "bool", 0, 1); return a.Count > 0 && Truthy(a[0]); });
        Add("builtins.tuple", a => { Count(a, "tuple", 0, 1); return new PyTuple(Items(a, "tuple").ToArray()); });
        Add("builtins.list", a => { Count(a, "list", 0, 1); var l = new PyList(); l.AddRange(Items(a, "list"));
            return l; });
        Add("builtins.dict", a => FromPairs(a, "builtins.dict"));
        Add("torch.Size", a =>
            { Count(a, "torch.Size", 0, 1); return new TorchSize(a.Count == 0
                ? Array.Empty<long>() : LongSequence(a[0], "torch.Size")); });
        Add("torch.device", ToDevice);
        Add("torch.serialization._get_layout", a =>
        {
            Count(a, "_get_layout", 1, 1);
            var n = String(a[0], "layout name");
            return new PyGlobal("torch", n.StartsWith("torch.", StringComparison.Ordinal) ? n[6..] : n);
        });
        // Pre-0.4 files make a tensor by calling its class with no arguments and BUILDing it (LegacyTensor).
        foreach (var cls in new[] { "torch.Tensor" }.Concat(DType.All.Where(d => d.StorageClass is not null)
                     .SelectMany(d => new[] { "torch.", "torch.cuda." }
                         .Select(p => p + d.StorageClass!.Replace("Storage", "Tensor", StringComparison.Ordinal)))))
        {
            string name = cls;
            Add(name, a => NoArgs(a, name), a => NoArgs(a, name));
        }
        Add("torch.nn.parameter.Parameter", a =>
        {
            // Parameter(data, requires_grad=True), as NEWOBJ or a call.
            Count(a, "Parameter", 1, 2);
            var t = (a[0] as Tensor ?? throw Bad($"Parameter expects a tensor but got {Describe(a[0])}.")).WithName("");
            t.IsParameter = true;
            t.RequiresGrad = a.Count < 2 || Bool(a[1], "requires_grad");
            return t;
        });
        return k;
    }

    private static LegacyTensor NoArgs(PyTuple a, string cls)
    {
        Count(a, cls, 0, 0);
        return new LegacyTensor(cls);
    }

    private static PyDict FromPairs(PyTuple a, string type)
    {
        Count(a, type, 0, 1);
        var d = new PyDict { PythonType = type };
        if (a.Count == 0 || a[0] is null) return d;
        if (a[0] is PyDict src) { foreach (System.Collections.DictionaryEntry e in src) d.SetItem(e.Key,
            e.Value); return d; }
        IEnumerable<object?> pairs = a[0] as IEnumerable<object?> ?? throw Bad($"{type} expects pairs but got {Describe(a[0])}.");
        foreach (var p in pairs)
        {
            var pair = p as IReadOnlyList<object?> ?? throw Bad($"{type} expects (key, value) pairs.");
            if (pair.Count != 2) throw Bad($"{type} expects (key, value) pairs.");
            d.SetItem(pair[0] ?? throw Bad("A dict key is None."), pair[1]);
        }
        return d;
    }

    private static PySet ToSet(PyTuple a, bool frozen)
    {
        var s = new PySet(frozen);
        if (a.Count > 0 && a[0] is IEnumerable<object?> items)
            foreach (var i in items)
            {
                if (IsUnhashable(i))
                    throw Bad($"A set item is an unhashable {Describe(i)} (CPython refuses it).");
                s.AddUnique(i);
            }
        return s;
    }

    private static object ToByteArray(PyTuple a)
    {
        Count(a, "bytearray", 0, 2);
        if (a.Count == 0) return new PyByteArray(Array.Empty<byte>());
        return a[0] switch
        {
            byte[] b => new PyByteArray(b),
            string s when a.Count == 2 => new PyByteArray((byte[])Encode(a)!),
            PyList l => new PyByteArray(l.Select(x =>
                Long(x, "bytearray item") is var v and >= 0 and <= 255
                    ? (byte)v : throw Bad("bytearray items must be in range(0, 256).")).ToArray()),
            _ => throw Bad($"bytearray() got {Describe(a[0])}."),
        };
    }

    /// <summary>A bytes object of a count this large is no checkpoint's: zero-filled bytes are allocated, so the
    /// count is bounded.</summary>
    private const long MaxZeroBytes = 64L << 20;

    private static object ToBytes(PyTuple a)
    {
        Count(a, "bytes", 0, 3);
        if (a.Count == 0) return Array.Empty<byte>();
        return a[0] switch
        {
            byte[] b => b.ToArray(),
            PyByteArray b => b.Value.ToArray(),
            string when a.Count >= 2 => Encode(a)!,
            long or int or BigInteger when Long(a[0], "bytes size") is var n and >= 0 and <= MaxZeroBytes =>
                new byte[n],
            long or int or BigInteger => throw Bad($"bytes({a[0]}) asks for more zero bytes than any checkpoint " +
                $"holds (at most {MaxZeroBytes >> 20} MiB are made)."),
            IEnumerable<object?> items => items.Select(x => Long(x, "bytes item") is var v and >= 0 and <= 255
                ? (byte)v : throw Bad("bytes items must be in range(0, 256).")).ToArray(),
            _ => throw Bad($"bytes() got {Describe(a[0])}."),
        };
    }

    private static PyRange ToRange(PyTuple a)
    {
        Count(a, "range", 1, 3);
        long start = a.Count == 1 ? 0 : Long(a[0], "range start");
        long stop = Long(a[a.Count == 1 ? 0 : 1], "range stop");
        long step = a.Count == 3 ? Long(a[2], "range step") : 1;
        return step == 0 ? throw Bad("range() arg 3 must not be zero.") : new PyRange(start, stop, step);
    }

    private static object ToInt(PyTuple a)
    {
        Count(a, "int", 0, 2);
        if (a.Count == 0) return 0L;
        return a[0] switch
        {
            bool b => b ? 1L : 0L,
            long or int or BigInteger when a.Count == 1 => a[0]!,
            double d when double.IsFinite(d) => new BigInteger(Math.Truncate(d)) is var v
                && v >= long.MinValue && v <= long.MaxValue ? (object)(long)v : v,
            double => throw Bad("int() cannot convert an infinity or NaN."),
            string s => ParseInt(s.Trim().Replace("_", ""), a.Count == 2 ? Long(a[1], "int base") : 10),
            _ => throw Bad($"int() got {Describe(a[0])}."),
        };
    }

    private static object ParseInt(string s, long numberBase)
    {
        if (numberBase != 10 && numberBase != 16 && numberBase != 8 && numberBase != 2)
            throw Bad($"int() with base {numberBase} is not supported.");
        bool negative = s.StartsWith('-');
        string digits = s.TrimStart('+', '-');
        if (digits.Length == 0 || digits.Length > 4300) throw Bad($"int() got the invalid literal '{s}'.");
        BigInteger value = 0;
        foreach (char c in digits.ToLowerInvariant())
        {
            int digit = c is >= '0' and <= '9' ? c - '0' : c is >= 'a' and <= 'z' ? c - 'a' + 10 : 99;
            if (digit >= numberBase) throw Bad($"int() got the invalid literal '{s}' for base {numberBase}.");
            value = value * numberBase + digit;
        }
        if (negative) value = -value;
        return value >= long.MinValue && value <= long.MaxValue ? (long)value : value;
    }

    private static double ToFloat(PyTuple a)
    {
        Count(a, "float", 0, 1);
        if (a.Count == 0) return 0.0;
        if (a[0] is not string s) return a[0] is bool b ? (b ? 1 : 0) : Double(a[0], "float argument");
        return s.Trim().ToLowerInvariant() switch
        {
            "inf" or "+inf" or "infinity" or "+infinity" => double.PositiveInfinity,
            "-inf" or "-infinity" => double.NegativeInfinity,
            "nan" or "+nan" or "-nan" => double.NaN,
            var t when double.TryParse(t.Replace("_", ""), System.Globalization.NumberStyles.Float,
                System.Globalization.CultureInfo.InvariantCulture, out double d) => d,
            _ => throw Bad($"float() got the invalid literal '{s}'."),
        };
    }

    /// <summary>Python's truth value of plain data; anything else (an object whose __bool__ would run) is
    /// refused.</summary>
    private static bool Truthy(object? v) => v switch
    {
        null => false,
        bool b => b,
        long l => l != 0,
        int i => i != 0,
        BigInteger big => !big.IsZero,
        double d => d != 0,
        string s => s.Length > 0,
        byte[] b => b.Length > 0,
        System.Collections.ICollection c => c.Count > 0,
        _ => throw Bad($"bool() of {Describe(v)} would run its own code; it is not computed."),
    };

    private static IEnumerable<object?> Items(PyTuple a, string type) => a.Count == 0 ? [] : a[0] switch
    {
        string s => s.Select(c => (object?)c.ToString()),
        byte[] b => b.Select(x => (object?)(long)x),
        PyDict d => d.Keys.Cast<object?>(),
        IEnumerable<object?> items => items,
        _ => throw Bad($"{type}() expects an iterable but got {Describe(a[0])}."),
    };

    // Protocol 2 pickles bytes as _codecs.encode(latin1_text, 'latin1').
    private static object? Encode(PyTuple a)
    {
        Count(a, "_codecs.encode", 1, 3);
        var text = String(a[0], "_codecs.encode text");
        string enc = a.Count > 1 ? String(a[1], "encoding").ToLowerInvariant().Replace('_', '-') : "utf-8";
        return enc switch
        {
            "latin1" or "latin-1" or "iso-8859-1" or "l1" => Encoding.Latin1.GetBytes(text),
            "utf-8" or "utf8" => Encoding.UTF8.GetBytes(text),
            "ascii" => Encoding.ASCII.GetBytes(text),
            _ => throw Fail.Unsupported(ErrorIds.PickleStructure, $"_codecs.encode with encoding '{enc}' is not supported."),
        };
    }

    private static TorchDevice ToDevice(PyTuple a)
    {
        Count(a, "torch.device", 1, 2);
        var s = String(a[0], "device type");
        if (a.Count == 2 && a[1] is not null) return new TorchDevice(s, Long(a[1], "device index"));
        int colon = s.IndexOf(':');
        if (colon < 0) return new TorchDevice(s, null);
        return long.TryParse(s[(colon + 1)..], System.Globalization.NumberStyles.None,
            System.Globalization.CultureInfo.InvariantCulture, out long index)
            ? new TorchDevice(s[..colon], index)
            : throw Bad($"torch.device got the invalid device string '{s}'.");
    }
}
