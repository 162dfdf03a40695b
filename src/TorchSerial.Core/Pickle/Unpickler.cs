using TorchSerial.Errors;
using TorchSerial.Python;
using System.Globalization;
using System.Numerics;
using System.Text;

namespace TorchSerial.Pickle;

/// <summary>
/// A pickle virtual machine for protocols 0 to 5. It reads exactly one pickle (up to STOP) and never
/// executes anything: what globals and persistent ids mean comes from its <see cref="PickleHooks"/>, and
/// calls only build data. It is iterative (no recursion), so nesting depth cannot overflow the stack.
/// </summary>
internal sealed class Unpickler
{
    private readonly PickleInput _in;
    private readonly PickleHooks _hooks;
    private readonly StringEncoding _encoding;
    // The value stack as a plain array and a depth (List<T>'s checks were a measurable share of a
    // 10,000-tensor pickle), and the innermost mark's position kept at hand for every pop.
    private object?[] _stack = new object?[64];
    private int _depth;
    private int[] _marks = new int[16];
    private int _markCount;
    private int _floor;
    private readonly PickleMemo _memo;
    private long _opOffset;
    private long _pushes;
    private readonly long _maxPushes;

    private readonly long _maxBytes;
    private long _bytes;

    public Unpickler(PickleInput input, PickleHooks hooks, StringEncoding encoding,
        long maxValues = PickleLimits.DefaultMaxValues, long maxBytes = PickleLimits.DefaultMaxBytes)
    {
        _maxPushes = maxValues;
        _maxBytes = maxBytes;
        _in = input;
        _memo = new PickleMemo(input.TryGetRest(out var pickle) ? MemoReadsScan.Find(pickle) : null);
        _hooks = hooks;
        _encoding = encoding;
    }

    public IPickleObserver? Observer { get; init; }

    /// <summary>Runs the pickle up to STOP and returns its value.</summary>
    public object? Load()
    {
        while (true)
        {
            _opOffset = _in.Position;
            if (!_in.TryReadByte(out byte op))
                throw Fail.Data(ErrorIds.PickleTruncated,
                    $"The pickle in '{_in.Record}' ends at offset {_opOffset} without a STOP opcode: the file is " +
                        "truncated or corrupt.",
                    _in.Record, _opOffset);
            if (op == Op.STOP)
            {
                if (_depth != 1 || _markCount != 0)
                    throw Structure($"STOP found with {_depth} values on the stack (expected exactly 1)");
                return _stack[0];
            }
            Step(op);
        }
    }

    private void Step(byte op)
    {
        switch (op)
        {
            case Op.PROTO:
                byte proto = _in.ReadByte();
                if (proto > 5)
                    throw Fail.Data(ErrorIds.UnknownOpcode, $"The pickle in '{_in.Record}' declares protocol " +
                        $"{proto}; protocols 0 to 5 exist.", _in.Record, _opOffset);
                break;
            case Op.FRAME: _in.BeginFrame(_in.ReadUInt64(), _opOffset); break; // CPython's framing rules, exactly
            case Op.MARK: PushMark(); break;
            case Op.POP:
                if (_markCount > 0 && _floor == _depth) PopFloor(); else Pop();
                break;
            case Op.POP_MARK: PopMark(); break;
            case Op.DUP: PushShared(Peek()); break;

            case Op.NONE: Push(null); break;
            case Op.NEWTRUE: Push(True); break;
            case Op.NEWFALSE: Push(False); break;
            case Op.INT: Push(ParseIntLine()); break;
            case Op.BININT: Push(SmallInts.Box(_in.ReadInt32())); break;
            case Op.BININT1: Push(SmallInts.Box(_in.ReadByte())); break;
            case Op.BININT2: Push(SmallInts.Box(_in.ReadUInt16())); break;
            case Op.LONG: Push(ParseLongLine()); break;
            case Op.LONG1: Push(Normalize(new BigInteger(_in.ReadBytes(_in.ReadByte()), isUnsigned: false,
                isBigEndian: false))); break;
            case Op.LONG4:
                int n4 = _in.ReadInt32();
                if (n4 < 0) throw Structure("LONG4 with a negative length");
                Push(Normalize(new BigInteger(_in.ReadBytes(n4), isUnsigned: false, isBigEndian: false)));
                break;
            case Op.FLOAT: Push(ParseFloatLine()); break;
            case Op.BINFLOAT: Push(_in.ReadDoubleBigEndian()); break;

            case Op.STRING: Push(DecodePy2(Py2Literal.Unquote(_in.ReadLine(), _in.Record, _opOffset))); break;
            case Op.BINSTRING:
                int bl = _in.ReadInt32();
                if (bl < 0) throw Structure("BINSTRING with a negative length");
                Push(DecodePy2(_in.ReadBytes(bl)));
                break;
            case Op.SHORT_BINSTRING: Push(DecodePy2(_in.ReadBytes(_in.ReadByte()))); break;
            case Op.UNICODE: Push(Py2Literal.RawUnicodeEscape(_in.ReadLine())); break;
            case Op.BINUNICODE: Push(Utf8(_in.ReadSpan(_in.ReadUInt32()))); break;
            case Op.SHORT_BINUNICODE: Push(Utf8(_in.ReadSpan(_in.ReadByte()))); break;
            case Op.BINUNICODE8: Push(Utf8(_in.ReadSpan(ToLength(_in.ReadUInt64())))); break;
            case Op.BINBYTES: Push(_in.ReadBytes(_in.ReadUInt32())); break;
            case Op.SHORT_BINBYTES: Push(_in.ReadBytes(_in.ReadByte())); break;
            case Op.BINBYTES8: Push(_in.ReadBytes(ToLength(_in.ReadUInt64()))); break;
            case Op.BYTEARRAY8: Push(new PyByteArray(_in.ReadBytes(ToLength(_in.ReadUInt64())))); break;
            case Op.NEXT_BUFFER:
                throw Fail.Unsupported(ErrorIds.PickleStructure, $"The pickle in '{_in.Record}' uses out-of-band buffers (NEXT_BUFFER), which torch.save never writes.", _in.Record);
            case Op.READONLY_BUFFER: break;

            case Op.EMPTY_TUPLE: Push(PyTuple.Empty); break;
            case Op.TUPLE: if (!TryBorrowedCall()) Push(TupleFromStack(MarkedCount())); break;
            case Op.TUPLE1: Push(TupleFromStack(1)); break;
            case Op.TUPLE2: Push(TupleFromStack(2)); break;
            case Op.TUPLE3: Push(TupleFromStack(3)); break;
            case Op.EMPTY_LIST: Push(new PyList()); break;
            case Op.LIST: Push(new PyList(PopMark())); break;
            case Op.APPEND: { var v = Pop(); Append(Peek(), new[] { v }); break; }
            case Op.APPENDS: { var items = PopMark(); Append(Peek(), items); break; }
            case Op.EMPTY_DICT: Push(new PyDict()); break;
            case Op.DICT: { var items = PopMark(); var d = new PyDict(); SetItems(d, items); Push(d); break; }
            case Op.SETITEM: { var v = Pop(); var k = Pop(); SetItems(Peek(), new[] { k, v }); break; }
            case Op.SETITEMS: { var items = PopMark(); SetItems(Peek(), items); break; }
            case Op.EMPTY_SET: Push(new PySet(frozen: false)); break;
            case Op.ADDITEMS:
            {
                var items = PopMark();
                var set = Peek() as PySet ?? throw Structure("ADDITEMS on something that is not a set");
                foreach (var i in items) AddToSet(set, i);
                break;
            }
            case Op.FROZENSET: { var s = new PySet(frozen: true); foreach (var i in PopMark()) AddToSet(s,
                i); Push(s); break; }

            case Op.PUT: _memo.Set(ParseIndexLine(), Peek()); break;
            case Op.BINPUT: _memo.Set(_in.ReadByte(), Peek()); break;
            case Op.LONG_BINPUT: _memo.Set(_in.ReadUInt32(), Peek()); break;
            case Op.MEMOIZE: _memo.Set(_memo.Count, Peek()); break;
            case Op.GET: PushShared(Recall(ParseIndexLine())); break;
            case Op.BINGET: PushShared(Recall(_in.ReadByte())); break;
            case Op.LONG_BINGET: PushShared(Recall(_in.ReadUInt32())); break;

            case Op.GLOBAL:
            {
                string module = Ascii(_in.ReadLine());
                string name = Ascii(_in.ReadLine());
                Push(Global(module, name));
                break;
            }
            case Op.STACK_GLOBAL:
            {
                var name = Pop() as string ?? throw Structure("STACK_GLOBAL needs a string name");
                var module = Pop() as string ?? throw Structure("STACK_GLOBAL needs a string module");
                Push(Global(module, name));
                break;
            }
            case Op.REDUCE: { var args = AsArgs(Pop(), "REDUCE"); var f = Pop(); Push(Call(f, args, "REDUCE")); break; }
            case Op.NEWOBJ: { var args = AsArgs(Pop(), "NEWOBJ"); var cls = Pop(); Push(New(cls, args, null,
                "NEWOBJ")); break; }
            case Op.NEWOBJ_EX:
            {
                var kwargs = Pop() as PyDict ?? throw Structure("NEWOBJ_EX needs a dict of keyword arguments");
                var args = AsArgs(Pop(), "NEWOBJ_EX");
                var cls = Pop();
                Push(New(cls, args, kwargs.Count > 0 ? kwargs : null, "NEWOBJ_EX"));
                break;
            }
            case Op.INST:
            {
                string module = Ascii(_in.ReadLine());
                string name = Ascii(_in.ReadLine());
                var cls = Global(module, name);
                Push(New(cls, new PyTuple(PopMark()), null, "INST"));
                break;
            }
            case Op.OBJ:
            {
                var items = PopMark();
                if (items.Length == 0) throw Structure("OBJ without a class");
                Push(New(items[0], new PyTuple(items[1..]), null, "OBJ"));
                break;
            }
            case Op.BUILD: { var state = Pop(); Build(Peek(), state); break; }
            case Op.PERSID: Push(_hooks.PersistentLoad(DecodePy2(_in.ReadLine()))); break;
            case Op.BINPERSID: Push(_hooks.PersistentLoad(Pop())); break;
            case Op.EXT1: case Op.EXT2: case Op.EXT4:
                throw Fail.Unsupported(ErrorIds.UnknownOpcode,
                    $"The pickle in '{_in.Record}' uses the copyreg extension registry (opcode 0x{op:X2} at offset " +
                        $"{_opOffset}), which torch.save never writes.", _in.Record);
            default:
                throw Fail.Data(ErrorIds.UnknownOpcode,
                    $"The pickle in '{_in.Record}' has an unknown opcode 0x{op:X2} at offset {_opOffset}: the file " +
                        "is corrupt or not a pickle.", _in.Record, _opOffset);
        }
    }

    // Reused argument tuples by length, for calls that only read them (see TryBorrowedCall).
    private readonly PyTuple?[] _borrowed = new PyTuple?[8];
    private readonly IntTuples _intTuples = new();
    private readonly object?[]?[] _borrowedItems = new object?[8][];

    /// <summary>
    /// A tuple that only a call reads: torch writes every tensor as MARK … TUPLE BINPUT n BINPERSID (the storage id)
    /// and MARK … TUPLE BINPUT n REDUCE (the rebuild call). Where the memo entry is never read back and the consumer
    /// keeps no reference to the tuple, the call gets a reused tuple and no new one is built: two fewer tuples a
    /// tensor (~180 bytes of ~1,200 a lazy open allocates). Everything else is as the ops one by one would do it:
    /// the same budget is spent, the memo counts the entry, and a refused or malformed call fails the same way.
    /// Only where the pickle is in memory (the bytes ahead can be looked at) and no scan is watching.
    /// </summary>
    private bool TryBorrowedCall()
    {
        if (Observer is not null || _markCount == 0 || !_in.TryGetRest(out var ahead)) return false;
        int count = _depth - _floor, at = 0;
        if (count >= _borrowed.Length) return false;
        long put = -1;
        if (ahead.Length >= 2 && ahead[0] == Op.BINPUT) (put, at) = (ahead[1], 2);
        else if (ahead.Length >= 5 && ahead[0] == Op.LONG_BINPUT)
            (put, at) = (System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(ahead[1..]), 5);
        if (at >= ahead.Length || (put >= 0 && _memo.Keeps(put))) return false;
        byte next = ahead[at];
        Callable? callable = null;
        if (next == Op.REDUCE)
        {
            // The callable sits just below the mark, and must be above the mark outside it.
            int outer = _markCount > 1 ? _marks[_markCount - 2] : 0;
            if (_floor - 1 < outer || _stack[_floor - 1] is not Callable { BorrowsArgs: true } c) return false;
            callable = c;
        }
        else if (next != Op.BINPERSID || !_hooks.BorrowsPersistentId) return false;

        var items = _borrowedItems[count] ??= new object?[count];
        var args = _borrowed[count] ??= new PyTuple(items);
        int start = PopFloor();
        Array.Copy(_stack, start, items, 0, count);
        Array.Clear(_stack, start, count);
        _depth = start;
        Spend(Slot + TupleCost(count)); // what pushing the tuple would have spent
        try
        {
            if (put >= 0)
            {
                _opOffset = _in.Position;
                _in.ReadByte();
                _memo.Set(at == 2 ? _in.ReadByte() : _in.ReadUInt32(), null); // counted, not kept
            }
            _opOffset = _in.Position;
            _in.ReadByte();
            if (callable is null) Push(_hooks.PersistentLoad(args));
            else
            {
                var f = Pop();
                Push(Call(f, args, "REDUCE"));
            }
        }
        finally { Array.Clear(items); }
        return true;
    }

    private object Global(string module, string name)
    {
        Observer?.GlobalReferenced(_hooks.FullName(module, name), _in.Record, _opOffset);
        return _hooks.FindClass(module, name, _in.Record, _opOffset);
    }

    private void Used(object? global, string how)
    {
        if (Observer is null) return;
        string? name = global switch { Callable c => c.FullName, PyGlobal g => g.FullName, PyObject o =>
            o.Type.FullName, _ => null };
        if (name is not null) Observer.GlobalUsed(name, how, _in.Record, _opOffset);
    }

    private object? Call(object? f, PyTuple args, string how)
    {
        Used(f, how);
        return Invoke(f, args, how);
    }

    private object? Invoke(object? f, PyTuple args, string how) => f switch
    {
        Callable c => c.Call(args),
        PyGlobal g => new PyObject(g, args, how),
        // Calling an inert object (getattr(x, 'y')(...) in an admitted pickle) gives another inert object, so a
        // scan lists what follows instead of stopping at a pickle CPython loads.
        PyObject o => new PyObject(o.Type, args, how),
        _ => throw Structure($"{how} applied to {PickleArgs.Describe(f)}, which is not a callable global"),
    };

    private object? New(object? cls, PyTuple args, PyDict? kwargs, string how)
    {
        Used(cls, how);
        return Instantiate(cls, args, kwargs, how);
    }

    private object? Instantiate(object? cls, PyTuple args, PyDict? kwargs, string how) => cls switch
    {
        Callable c => c.NewObject(args),
        PyGlobal g => new PyObject(g, args, how) { KwArgs = kwargs },
        PyObject o => new PyObject(o.Type, args, how) { KwArgs = kwargs },
        _ => throw Structure($"{how} applied to {PickleArgs.Describe(cls)}, which is not a class"),
    };

    private void Build(object? target, object? state)
    {
        Used(target, "BUILD");
        switch (target)
        {
            case PyDict d: d.State = state; break; // e.g. a state_dict's _metadata attribute
            case PyObject o: o.State = state; break;
            case var other when _hooks.Build(other, state): break;
            default: throw Structure($"BUILD on {PickleArgs.Describe(target)}, which cannot take state");
        }
    }

    private void Append(object? target, IReadOnlyList<object?> items)
    {
        switch (target)
        {
            case PyList l: l.AddRange(items); break;
            case PyObject o: (o.ListItems ??= new PyList()).AddRange(items); break;
            default: throw Structure($"APPEND on {PickleArgs.Describe(target)}, which is not a list");
        }
    }

    // What CPython cannot hash cannot be a dict key or a set item there (TypeError: unhashable type), so a pickle
    // that asks for one (a set inside itself included) is one CPython refuses to load: refused here too.
    private void AddToSet(PySet set, object? item)
    {
        if (PickleArgs.IsUnhashable(item)) throw Structure($"a set item is an unhashable {PickleArgs.Describe(item)}");
        set.AddUnique(item);
    }

    private void SetItems(object? target, IReadOnlyList<object?> items)
    {
        if (items.Count % 2 != 0) throw Structure("SETITEMS with an odd number of items");
        PyDict d = target switch
        {
            PyDict dict => dict,
            PyObject o => o.DictItems ??= new PyDict(),
            _ => throw Structure($"SETITEM on {PickleArgs.Describe(target)}, which is not a dict"),
        };
        for (int i = 0; i < items.Count; i += 2)
        {
            var key = items[i] ?? (object)PyNone.Key;
            if (PickleArgs.IsUnhashable(key))
                throw Structure($"a dict key is an unhashable {PickleArgs.Describe(key)}");
            d.SetItem(key, items[i + 1]);
        }
    }

    private object? Recall(long index)
        => _memo.TryGet(index, out var v) ? v
            : throw Fail.Data(ErrorIds.MemoKeyMissing,
                $"The pickle in '{_in.Record}' refers to memo entry {index} at offset {_opOffset}, which was never " +
                    "stored: the pickle is corrupt.",
                _in.Record, _opOffset);

    private static PyTuple AsArgs(object? value, string how)
        => value as PyTuple ?? throw new TorchSerialException(ErrorIds.PickleStructure, ErrorKind.InvalidData, $"{how} arguments are not a tuple.");

    private object DecodePy2(byte[] raw)
    {
        try
        {
            return _encoding switch
            {
                StringEncoding.Bytes => raw,
                StringEncoding.Latin1 => Encoding.Latin1.GetString(raw),
                StringEncoding.Ascii => StrictAscii.GetString(raw),
                _ => StrictUtf8.GetString(raw),
            };
        }
        catch (DecoderFallbackException)
        {
            throw Fail.Data(ErrorIds.StringDecodeFailed,
                $"A Python 2 byte string at offset {_opOffset} of '{_in.Record}' is not valid " +
                    $"{(_encoding == StringEncoding.Ascii ? "ASCII" : "UTF-8")}. " +
                "Load the file with -Encoding latin1 (right for Python 2 NumPy data) or -Encoding " +
                    "bytes.", _in.Record, _opOffset);
        }
    }

    private string Utf8(ReadOnlySpan<byte> raw)
        => SurrogatePassUtf8.Decode(raw) ?? throw Fail.Data(ErrorIds.StringDecodeFailed,
            $"A string at offset {_opOffset} of '{_in.Record}' is not UTF-8 (CPython refuses it too).", _in.Record,
            _opOffset);

    // Booleans are immutable: one box each, as Python has one True and one False.
    private static readonly object True = true, False = false;

    private static readonly Encoding StrictUtf8 = new UTF8Encoding(false, throwOnInvalidBytes: true);
    private static readonly Encoding StrictAscii = Encoding.GetEncoding("us-ascii", EncoderFallback.ExceptionFallback,
        DecoderFallback.ExceptionFallback);

    private string Ascii(byte[] line) => Encoding.ASCII.GetString(line).TrimEnd('\r');

    private object ParseIntLine()
    {
        var s = Ascii(_in.ReadLine());
        if (s == "01") return true; // protocol 0 spells True and False as INT 01 / 00
        if (s == "00") return false;
        return ParseInteger(s, "INT");
    }

    private double ParseFloatLine()
    {
        var s = Ascii(_in.ReadLine());
        return s switch
        {
            "nan" => double.NaN,
            "inf" => double.PositiveInfinity,
            "-inf" => double.NegativeInfinity,
            _ => double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var d)
                ? d : throw Structure("FLOAT has an invalid literal"),
        };
    }

    private object ParseLongLine() => ParseInteger(Ascii(_in.ReadLine()).TrimEnd('L'), "LONG");

    private object ParseInteger(string s, string what)
    {
        if (s.Length > 4096 || !BigInteger.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture,
            out var v))
            throw Structure($"{what} has an invalid integer literal");
        return Normalize(v);
    }

    private long ParseIndexLine() =>
        long.TryParse(Ascii(_in.ReadLine()), NumberStyles.None, CultureInfo.InvariantCulture, out var v)
        ? v : throw Structure("GET/PUT has an invalid memo index");

    private long ToLength(ulong n) => n > long.MaxValue ? long.MaxValue : (long)n;

    /// <summary>Python ints become long when they fit, BigInteger otherwise.</summary>
    private static object Normalize(BigInteger v) => v >= long.MinValue && v <= long.MaxValue ? (object)(long)v : v;

    // One slot of a stack or container (a reference, with room for the list growing), and what each new value adds.
    private const long Slot = 16;

    /// <summary>A new value: its estimated size counts against the budget as it is created.</summary>
    private void Push(object? v)
    {
        // The common values first: each arm is a type test, and a state_dict pushes ~25 values a tensor.
        Spend(Slot + v switch
        {
            string s => 24 + 2L * s.Length,
            PyTuple t => TupleCost(t.Count),
            long => 24,
            null or bool => 0,
            byte[] b => 24 + b.Length,
            PyByteArray ba => 48 + ba.Value.Length,
            BigInteger big => 32 + big.GetByteCount(),
            PyList l => 56 + 8L * l.Count,
            PyDict d => 96 + 48L * d.Count,
            _ => 24,
        });
        Add(v);
    }

    private static long TupleCost(int count) => 40 + 8L * count;

    /// <summary>A value already made (a memo read, DUP): only the reference to it is new.</summary>
    private void PushShared(object? v)
    {
        Spend(Slot);
        Add(v);
    }

    private void Add(object? v)
    {
        if (_depth == _stack.Length) Array.Resize(ref _stack, _depth * 2);
        _stack[_depth++] = v;
    }

    private void Spend(long bytes)
    {
        if (++_pushes > _maxPushes)
            throw Fail.Data(ErrorIds.PickleTooLarge,
                $"The pickle in '{_in.Record}' creates more than {_maxPushes} values (at offset {_opOffset}); " +
                    "TorchSerial stops there to protect the session's memory.",
                _in.Record, _opOffset);
        if ((_bytes += bytes) > _maxBytes)
            throw Fail.Data(ErrorIds.PickleTooLarge,
                $"The pickle in '{_in.Record}' builds values of more than {_maxBytes >> 20} MiB (at offset " +
                    $"{_opOffset}): " +
                    "far more than any real checkpoint's pickle holds, so TorchSerial stops there to protect the " +
                    "session's memory. If you trust the file and it really is that large, raise -PickleMemoryLimit.",
                _in.Record, _opOffset);
    }

    private object? Pop()
    {
        if (_depth <= _floor) throw Structure("the stack is empty");
        var v = _stack[--_depth];
        _stack[_depth] = null;
        return v;
    }

    private object? Peek()
    {
        if (_depth <= _floor) throw Structure("the stack is empty");
        return _stack[_depth - 1];
    }

    /// <summary>How many values stand above the innermost mark, which this closes.</summary>
    private int MarkedCount()
    {
        if (_markCount == 0) throw Structure("no MARK is open");
        return _depth - PopFloor();
    }

    /// <summary>The top <paramref name="count"/> values, popped, as a tuple (an int tuple shared by content).</summary>
    private PyTuple TupleFromStack(int count)
    {
        if (_depth - _floor < count) throw Structure("the stack is empty"); // what Pop would say
        int start = _depth - count;
        var tuple = _intTuples.Of(_stack.AsSpan(start, count));
        Array.Clear(_stack, start, count);
        _depth = start;
        return tuple;
    }

    private object?[] PopMark()
    {
        if (_markCount == 0) throw Structure("no MARK is open");
        int start = PopFloor();
        var items = new object?[_depth - start];
        Array.Copy(_stack, start, items, 0, items.Length);
        Array.Clear(_stack, start, items.Length);
        _depth = start;
        return items;
    }

    private void PushMark()
    {
        if (_markCount == _marks.Length) Array.Resize(ref _marks, _markCount * 2);
        _marks[_markCount++] = _floor = _depth;
    }

    /// <summary>Closes the innermost mark; returns where it stood.</summary>
    private int PopFloor()
    {
        int start = _marks[--_markCount];
        _floor = _markCount > 0 ? _marks[_markCount - 1] : 0;
        return start;
    }

    private TorchSerialException Structure(string what) => Fail.Data(ErrorIds.PickleStructure,
        $"The pickle in '{_in.Record}' is malformed at offset {_opOffset}: {what}.", _in.Record, _opOffset);
}

/// <summary>Stands for Python's None when it is used as a dict key (IDictionary cannot hold null keys).</summary>
public sealed class PyNone
{
    public static readonly PyNone Key = new();
    private PyNone() { }
    public override string ToString() => "None";
}
