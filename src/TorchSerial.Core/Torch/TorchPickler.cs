using TorchSerial.Errors;
using TorchSerial.Pickle;
using TorchSerial.Python;
using TorchSerial.Tensors;
using System.Collections;
using System.Numerics;
using System.Text;

namespace TorchSerial.Torch;

/// <summary>
/// Pickles an object graph the way torch.save's pickler does: CPython's reductions for Python values,
/// torch's for tensors and storages (persistent ids: the writer says each storage's record key and the
/// location tag it is saved with). It walks
/// containers with an explicit stack of pending actions, so nesting depth cannot overflow the stack.
/// </summary>
internal sealed class TorchPickler
{
    private const string StorageTypename = "storage";
    private readonly PickleWriter _w;
    private readonly Func<Storage, DType, StorageRecord> _record;
    private readonly bool _legacyIds;
    private readonly Func<object?, object?> _normalize;
    private readonly Stack<Step> _work = new();
    private readonly Func<Storage, string> _tag;
    private readonly bool _libTorch;

    /// <summary>
    /// A pickler whose storages go where <paramref name="record"/> says (key, dtype and size field, given the dtype of
    /// the view that pickles it), saved with the location tag <paramref name="tag"/> gives (torch's location_tag).
    /// With <paramref name="libTorch"/>, values are pickled as LibTorch's C++ writer pickles them, for its C++ reader:
    /// the v3 dtypes as a typed storage class through _rebuild_tensor_v2, dicts as plain dicts (its reader makes
    /// None of collections.OrderedDict), a dict of tensors tagged Dict[str, Tensor], and Parameters as tensors
    /// that keep requires_grad.
    /// </summary>
    public TorchPickler(int protocol, Func<Storage, DType, StorageRecord> record, Func<Storage, string> tag,
        bool legacyPersistentIds,
        Func<object?, object?>? normalize, int expectedTensors = 0, bool libTorch = false)
    {
        _libTorch = libTorch;
        _w = new PickleWriter(protocol, checked(expectedTensors * 8));
        _record = record;
        _tag = tag;
        _legacyIds = legacyPersistentIds;
        _normalize = normalize ?? (o => o);
    }

    /// <summary>A pickler for values that hold no tensors (the legacy stream's header pickles).</summary>
    public static TorchPickler Plain(int protocol) => new(protocol,
        (s, _) => throw new InvalidOperationException($"Storage '{s.Key}' in a pickle that holds no tensors."),
        _ => "cpu", true, null);

    /// <summary>Pickles one object (PROTO … STOP) and returns the bytes.</summary>
    public byte[] Dump(object? root)
    {
        _w.Proto();
        _work.Push(Step.SaveOf(root));
        while (_work.Count > 0) Run(_work.Pop());
        _w.Stop();
        return _w.ToArray();
    }

    // Steps run last-in first-out, so a sequence is scheduled in reverse.
    private void Then(params Action[] steps)
    {
        for (int i = steps.Length - 1; i >= 0; i--) _work.Push(Step.Do(steps[i]));
    }

    private void Schedule(List<Step> steps)
    {
        for (int i = steps.Count - 1; i >= 0; i--) _work.Push(steps[i]);
    }

    private void Run(in Step step)
    {
        switch (step.Kind)
        {
            case StepKind.Save: Save(step.Value); break;
            case StepKind.Op: _w.Op(step.Op); break;
            default: step.Action!(); break;
        }
    }

    private enum StepKind : byte { Do, Save, Op }

    /// <summary>
    /// One pending piece of work: save a value, write an opcode, or run an action. Saving an item or writing
    /// an opcode is the common case by far, and as a plain value it costs no closure (a save of 10,000 tensors
    /// allocated 130 MB of delegates when every step was one).
    /// </summary>
    private readonly struct Step
    {
        private Step(StepKind kind, Action? action, object? value,
            byte op) { Kind = kind; Action = action; Value = value; Op = op; }
        public StepKind Kind { get; }
        public Action? Action { get; }
        public object? Value { get; }
        public byte Op { get; }
        public static Step Do(Action action) => new(StepKind.Do, action, null, 0);
        public static Step SaveOf(object? value) => new(StepKind.Save, null, value, 0);
        public static Step OpOf(byte op) => new(StepKind.Op, null, null, op);
    }

    private void Save(object? value)
    {
        value = _normalize(value);
        switch (value)
        {
            case StorageRef r: SavePersistentId(r.Storage, r.ViewDType, untyped: false); return;
            case null: _w.None(); return;
            case bool b: _w.Bool(b); return;
            case string s: _w.String(s); return;
            case sbyte or byte or short or ushort or int or uint or long or ulong: _w.Int(ToBig(value)); return;
            case BigInteger big: _w.Int(big); return;
            case double d: _w.Float(d); return;
            case float f: _w.Float(f); return;
            case decimal m: _w.Float((double)m); return;
            case Half h: _w.Float((double)h); return;
            case char c: _w.String(c.ToString()); return;
        }
        if (_w.TryGet(value)) return;
        switch (value)
        {
            case Tensor { IsMeta: true, IsParameter: false } m: SaveMeta(m); break; // a meta Parameter wraps one
            case Tensor t: SaveTensor(t); break;
            case SparseTensor s: SaveSparse(s); break;
            case LayoutRef l: Reduce(l, "torch.serialization", "_get_layout",
                new object?[] { "torch." + l.Name }); break;
            case Storage st: SavePersistentId(st, st.IsUntyped ? DType.UInt8 : st.DType, untyped: st.IsUntyped); break;
            case DType d: _w.Global("torch", d.Name); break;
            case PyGlobal g: _w.Global(g.Module, g.Name); break;
            case byte[] bytes: SaveBytes(bytes); break;
            case PyByteArray ba: SaveByteArray(ba); break;
            case PyTuple tuple: SaveTuple(tuple, tuple); break;
            case TorchSize size: Reduce(size, "torch", "Size", new object?[] { new PyTuple(size.Select(x =>
                (object?)x).ToArray()) }); break;
            case TorchDevice dev: Reduce(dev, "torch", "device", dev.Index is { } i
                ? new object?[] { dev.Type, i } : new object?[] { dev.Type }); break;
            case Complex c: NewObj(value, "builtins", "complex", new object?[] { c.Real, c.Imaginary }); break;
            case PySet set: SaveSet(set); break;
            case PyObject o: SaveInert(o); break;
            case PyDict d: SaveDict(d, d.PythonType, d.State); break;
            case IDictionary d: SaveDict(d, "builtins.dict", null); break;
            case IList list: SaveList(list); break;
            default:
                throw new TorchSerialException(ErrorIds.UnsupportedValue, ErrorKind.InvalidArgument,
                    $"A value of type {value.GetType().FullName} cannot be saved: checkpoints hold tensors, " +
                        "storages, numbers, " +
                    "strings, bytes, None, lists, tuples and dictionaries of them.");
        }
    }

    private static BigInteger ToBig(object v) => v switch { ulong u => u, _ =>
        Convert.ToInt64(v, System.Globalization.CultureInfo.InvariantCulture) };

    // ---- Python containers --------------------------------------------------------------------------------

    private void SaveTuple(IReadOnlyList<object?> items, object identity)
    {
        int count = items.Count;
        if (count == 0) { _w.Op(Op.EMPTY_TUPLE); return; }
        bool small = count <= 3;
        _work.Push(Step.Do(() =>
        {
            // A tuple that (recursively) memoized itself while its items were saved is fetched, as CPython does.
            if (_w.TryGet(identity)) return;
            _w.Op(small ? (byte)(Op.TUPLE1 + count - 1) : Op.TUPLE);
            _w.Memoize(identity);
        }));
        for (int i = count - 1; i >= 0; i--) _work.Push(Step.SaveOf(items[i]));
        if (!small) _work.Push(Step.OpOf(Op.MARK));
    }


    private void SaveList(IList list)
    {
        _w.Op(Op.EMPTY_LIST);
        _w.Memoize(list);
        var items = list.Cast<object?>().ToList();
        Batched(items.Count, (steps, i) => steps.Add(Step.SaveOf(items[i])), Op.APPEND, Op.APPENDS);
    }

    private void SaveDict(IDictionary dict, string pythonType, object? state)
    {
        var pairs = dict.Cast<DictionaryEntry>().ToList();
        if (_libTorch)
        {
            SaveLibTorchDict(dict, pairs);
            return;
        }
        if (pythonType == "builtins.dict") EmptyDict(dict);
        else
        {
            int dot = pythonType.LastIndexOf('.');
            _w.Global(pythonType[..dot], pythonType[(dot + 1)..]);
            _w.Op(Op.EMPTY_TUPLE);
            _w.Op(Op.REDUCE);
            _w.Memoize(dict);
        }
        if (state is not null) Then(() => Save(state), () => _w.Op(Op.BUILD));
        SetItems(pairs);
    }

    /// <summary>A dict as LibTorch's C++ writer pickles it: a plain dict, whatever its Python type, wrapped in
    /// torch.jit._pickle.restore_type_tag(dict, 'Dict[str, Tensor]') when it maps names to tensors.</summary>
    private void SaveLibTorchDict(IDictionary dict, List<DictionaryEntry> pairs)
    {
        if (pairs.Count == 0 || !pairs.All(p => p.Key is string && _normalize(p.Value) is Tensor))
        {
            EmptyDict(dict);
            SetItems(pairs);
            return;
        }
        _w.Global("torch.jit._pickle", "restore_type_tag");
        Then(() => _w.Op(Op.MARK), () => { EmptyDict(dict); SetItems(pairs); }, () => _w.String("Dict[str, Tensor]"),
            () => _w.Op(Op.TUPLE), () => _w.Op(Op.REDUCE));
    }

    private void EmptyDict(object dict)
    {
        _w.Op(Op.EMPTY_DICT);
        _w.Memoize(dict);
    }

    /// <summary>Schedules the dict's items, in order, as SETITEM(S) (a None key stays None).</summary>
    private void SetItems(List<DictionaryEntry> pairs) => Batched(pairs.Count, (steps, i) =>
    {
        steps.Add(Step.SaveOf(pairs[i].Key is PyNone ? null : pairs[i].Key));
        steps.Add(Step.SaveOf(pairs[i].Value));
    }, Op.SETITEM, Op.SETITEMS);

    /// <summary>CPython's _batch_appends/_batch_setitems: batches of 1000; a batch of one uses the single
    /// opcode.</summary>
    private void Batched(int count, Action<List<Step>, int> add, byte single, byte multi)
    {
        var all = new List<Step>(2 * count + 2 * (count / 1000 + 1));
        for (int start = 0; start < count; start += 1000)
        {
            int n = Math.Min(1000, count - start);
            if (n == 1) { add(all, start); all.Add(Step.OpOf(single)); continue; }
            all.Add(Step.OpOf(Op.MARK));
            for (int i = start; i < start + n; i++) add(all, i);
            all.Add(Step.OpOf(multi));
        }
        // Items go before any state scheduled earlier, so push them last.
        Schedule(all);
    }

    private void SaveBytes(byte[] bytes)
    {
        if (_w.Protocol >= 3) { _w.Bytes(bytes); _w.Memoize(bytes); return; }
        if (bytes.Length == 0) { Reduce(bytes, "builtins", "bytes", Array.Empty<object?>()); return; }
        Reduce(bytes, "_codecs", "encode", new object?[] { Encoding.Latin1.GetString(bytes), "latin1" });
    }

    private void SaveByteArray(PyByteArray ba)
    {
        if (_w.Protocol >= 5) { _w.ByteArray8(ba.Value); _w.Memoize(ba); return; }
        Reduce(ba, "builtins", "bytearray", ba.Value.Length == 0
            ? Array.Empty<object?>()
            : new object?[] { Encoding.Latin1.GetString(ba.Value), "latin-1" });
    }

    private void SaveSet(PySet set)
    {
        if (_w.Protocol >= 4)
        {
            var steps = new List<Action>();
            if (!set.IsFrozen) { _w.Op(Op.EMPTY_SET); _w.Memoize(set); }
            if (set.IsFrozen || set.Count > 0) steps.Add(() => _w.Op(Op.MARK));
            steps.AddRange(set.Select(i => (Action)(() => Save(i))));
            if (set.IsFrozen) steps.Add(() => { _w.Op(Op.FROZENSET); _w.Memoize(set); });
            else if (set.Count > 0) steps.Add(() => _w.Op(Op.ADDITEMS));
            Then(steps.ToArray());
            return;
        }
        Reduce(set, "builtins", set.IsFrozen ? "frozenset" : "set", new object?[] { new PyList(set) });
    }

    private void SaveInert(PyObject o)
    {
        var steps = new List<Action> { () => _w.Global(o.Module, o.Name), () => Save(o.Args) };
        steps.Add(() =>
        {
            _w.Op(o.ConstructedBy is "NEWOBJ" or "NEWOBJ_EX" or "OBJ" or "INST" ? Op.NEWOBJ : Op.REDUCE);
            _w.Memoize(o);
        });
        if (o.ListItems is { Count: > 0 } li)
        {
            steps.Add(() => _w.Op(Op.MARK));
            steps.AddRange(li.Select(i => (Action)(() => Save(i))));
            steps.Add(() => _w.Op(Op.APPENDS));
        }
        if (o.DictItems is { Count: > 0 } di)
        {
            steps.Add(() => _w.Op(Op.MARK));
            foreach (DictionaryEntry e in di) { steps.Add(() => Save(e.Key)); steps.Add(() => Save(e.Value)); }
            steps.Add(() => _w.Op(Op.SETITEMS));
        }
        if (o.State is not null) { steps.Add(() => Save(o.State)); steps.Add(() => _w.Op(Op.BUILD)); }
        Then(steps.ToArray());
    }

    /// <summary>CPython's save_reduce: func, args tuple, REDUCE, then memoize the result.</summary>
    private void Reduce(object identity, string module, string name, object?[] args)
    {
        _work.Push(Step.Do(() => { _w.Op(Op.REDUCE); _w.Memoize(identity); }));
        _work.Push(Step.SaveOf(new PyTuple(args)));
        _w.Global(module, name); // the first step runs now: nothing else is scheduled in between
    }

    /// <summary>The protocol-2 form of cls.__new__(cls, *args): NEWOBJ.</summary>
    private void NewObj(object identity, string module, string name, object?[] args)
        => Then(() => _w.Global(module, name), () => Save(new PyTuple(args)), () =>
            { _w.Op(Op.NEWOBJ); _w.Memoize(identity); });

    // ---- tensors and storages (torch/_tensor.py, torch/nn/parameter.py) ----------------------------------

    private void SaveTensor(Tensor t)
    {
        var hooks = new PyDict { PythonType = "collections.OrderedDict" };
        if (t.IsParameter && !_libTorch)
        {
            var data = t.WithName(t.Name);
            data.IsParameter = false;
            data.RequiresGrad = false;
            data.PythonState = null;
            if (t.PythonState is null)
                Reduce(t, "torch._utils", "_rebuild_parameter", new object?[] { data, t.RequiresGrad, hooks });
            else
                Reduce(t, "torch._utils", "_rebuild_parameter_with_state", new object?[] { data, t.RequiresGrad, hooks,
                    t.PythonState });
            return;
        }
        var (func, args) = TensorReduction(t, hooks);
        if (t.PythonState is null && t.PythonType is null)
        {
            Reduce(t, "torch._utils", func, args);
            return;
        }
        // Tensor subclasses and tensors carrying Python attributes (torch ≥ 2.0).
        string type = t.PythonType ?? "torch.Tensor";
        int dot = type.LastIndexOf('.');
        Reduce(t, "torch._tensor", "_rebuild_from_type_v2", new object?[]
        {
            new PyGlobal("torch._utils", func), new PyGlobal(type[..dot], type[(dot + 1)..]), new PyTuple(args),
                t.PythonState ?? new PyDict(),
        });
    }

    private (string Func, object?[] Args) TensorReduction(Tensor t, PyDict hooks)
    {
        var size = new PyTuple(t.Shape.Select(x => (object?)x).ToArray());
        var stride = new PyTuple(t.Stride.Select(x => (object?)x).ToArray());
        var storage = new StorageRef(t.Storage, t.DTypeInfo);
        if (t.Quantization is { } q)
        {
            object?[] qparams = q.Scheme == "per_tensor_affine"
                ? new object?[] { new PyGlobal("torch", q.Scheme), q.Scale, q.ZeroPoint }
                : new object?[] { new PyGlobal("torch", "per_channel_affine"), q.Scales, q.ZeroPoints, q.Axis };
            return ("_rebuild_qtensor", new object?[] { storage, t.StorageOffset, size, stride, new PyTuple(qparams),
                t.RequiresGrad, hooks });
        }
        var args = new List<object?> { storage, t.StorageOffset, size, stride, t.RequiresGrad, hooks };
        bool v3 = t.DTypeInfo.IsV3 && !(_libTorch && t.DTypeInfo.PickledStorageClass is not null);
        if (v3) args.Add(t.DTypeInfo);
        if (t.Metadata is { Count: > 0 } m) args.Add(m);
        return (v3 ? "_rebuild_tensor_v3" : "_rebuild_tensor_v2", args.ToArray());
    }

    /// <summary>A meta tensor: torch 1.13's reduction, with no storage and so no record.</summary>
    private void SaveMeta(Tensor t)
        => Reduce(t, "torch._utils", "_rebuild_meta_tensor_no_storage", new object?[]
        {
            t.DTypeInfo, new PyTuple(t.Shape.Select(x => (object?)x).ToArray()),
            new PyTuple(t.Stride.Select(x => (object?)x).ToArray()), t.RequiresGrad,
        });

    /// <summary>A sparse tensor as torch saves it: its layout and its parts (1.13's CSR function where it came
    /// so).</summary>
    private void SaveSparse(SparseTensor s)
    {
        var size = new TorchSize(s.Shape.Items);
        var data = new List<object?>(s.Components);
        data.Add(size);
        if (s.Layout == "sparse_coo" && s.IsCoalesced is { } coalesced) data.Add(coalesced);
        Reduce(s, "torch._utils", s.SavedAsCsrFunction ? "_rebuild_sparse_csr_tensor" : "_rebuild_sparse_tensor",
            new object?[] { new LayoutRef(s.Layout), new PyTuple(data.ToArray()) });
    }

    /// <summary>A layout as torch pickles it: torch.serialization._get_layout('torch.sparse_coo').</summary>
    private sealed record LayoutRef(string Name);

    /// <summary>A tensor's storage as its rebuild function receives it: pickled as a persistent id, never memoized
    /// itself.</summary>
    private sealed record StorageRef(Storage Storage, DType ViewDType);

    private void SavePersistentId(Storage storage, DType viewDType, bool untyped)
    {
        var entry = _record(storage, viewDType);
        bool asUntyped = untyped || (entry.DType.IsV3 && !(_libTorch && entry.DType.PickledStorageClass is not null));
        var type = asUntyped ? new PyGlobal("torch.storage", "UntypedStorage")
            : new PyGlobal("torch", entry.DType.PickledStorageClass!);
        var location = LocationTag(_tag(storage));
        // The table counts a v3 dtype's storage in bytes (UntypedStorage); LibTorch's typed form counts elements.
        long size = entry.DType.IsV3 && !asUntyped ? entry.NumElements / entry.DType.ItemSize : entry.NumElements;
        object?[] pid = _legacyIds
            ? new object?[] { StorageTypename, type, entry.Key, location, size, null }
            : new object?[] { StorageTypename, type, entry.Key, location, size };
        _work.Push(Step.OpOf(Op.BINPERSID));
        _work.Push(Step.SaveOf(new PyTuple(pid)));
    }

    // torch's cpu tagger returns one constant string (memoized after its first use); other tags are built per call.
    private static string LocationTag(string tag) => tag == "cpu" ? "cpu" : new string(tag.AsSpan());
}

/// <summary>Where a save writes one storage: its record key, the dtype it is written as, and the persistent id's size
/// field.</summary>
internal readonly record struct StorageRecord(string Key, DType DType, long NumElements);
