using System.Buffers.Binary;
using System.Numerics;
using System.Text;

namespace TorchSerial.Pickle;

/// <summary>
/// Emits pickle opcodes with CPython's choices for a given protocol (torch-format.md §3.1), and keeps
/// the identity memo: the same object pickled twice becomes a GET of its first memo slot.
/// </summary>
internal sealed class PickleWriter
{
    private readonly MemoryStream _out;
    private readonly Dictionary<object, int> _memo;
    private readonly Dictionary<string, int> _globalMemo = new(StringComparer.Ordinal);

    /// <param name="protocol">The pickle protocol, 2 to 5.</param>
    /// <param name="expectedObjects">
    /// How many objects the memo will likely hold; sizing it up front saves the chain of ever larger arrays that
    /// growing it makes (a state_dict of 10,000 tensors memoizes about 80,000).
    /// </param>
    public PickleWriter(int protocol, int expectedObjects = 0)
    {
        Protocol = protocol;
        _memo = new Dictionary<object, int>(expectedObjects, ReferenceEqualityComparer.Instance);
        _out = new MemoryStream(Math.Max(256, expectedObjects * 12));
    }

    public int Protocol { get; }

    public byte[] ToArray() => _out.ToArray();

    public void Op(byte op) => _out.WriteByte(op);

    public void Proto() { Op(Pickle.Op.PROTO); Op((byte)Protocol); }

    public void Stop() => Op(Pickle.Op.STOP);

    public bool TryGet(object obj)
    {
        if (!_memo.TryGetValue(obj, out int slot)) return false;
        Get(slot);
        return true;
    }

    /// <summary>Records the object now on top of the stack in the next memo slot.</summary>
    public void Memoize(object obj)
    {
        int slot = _memo.Count + _globalMemo.Count;
        if (Protocol >= 4) Op(Pickle.Op.MEMOIZE);
        else if (slot < 256) { Op(Pickle.Op.BINPUT); Op((byte)slot); }
        else { Op(Pickle.Op.LONG_BINPUT); UInt32((uint)slot); }
        _memo[obj] = slot;
    }

    public void Int(BigInteger value)
    {
        if (value >= 0 && value <= 0xFF) { Op(Pickle.Op.BININT1); Op((byte)value); }
        else if (value >= 0 && value <= 0xFFFF) { Op(Pickle.Op.BININT2); UInt16((ushort)value); }
        else if (value >= int.MinValue && value <= int.MaxValue) { Op(Pickle.Op.BININT); Int32((int)value); }
        else
        {
            var bytes = value.ToByteArray(); // minimal two's complement, little-endian, as CPython's encode_long
            if (bytes.Length < 256) { Op(Pickle.Op.LONG1); Op((byte)bytes.Length); }
            else { Op(Pickle.Op.LONG4); Int32(bytes.Length); }
            _out.Write(bytes);
        }
    }

    public void Float(double value)
    {
        Op(Pickle.Op.BINFLOAT);
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteDoubleBigEndian(b, value);
        _out.Write(b);
    }

    public void Bool(bool value) => Op(value ? Pickle.Op.NEWTRUE : Pickle.Op.NEWFALSE);

    public void None() => Op(Pickle.Op.NONE);

    /// <summary>A str, memoized by identity (CPython memoizes every str it writes).</summary>
    public void String(string value)
    {
        if (TryGet(value)) return;
        var utf8 = Utf8(value);
        if (Protocol >= 4 && utf8.Length < 256) { Op(Pickle.Op.SHORT_BINUNICODE); Op((byte)utf8.Length); }
        else if (utf8.LongLength <= uint.MaxValue) { Op(Pickle.Op.BINUNICODE); UInt32((uint)utf8.Length); }
        else { Op(Pickle.Op.BINUNICODE8); UInt64((ulong)utf8.LongLength); }
        _out.Write(utf8);
        Memoize(value);
    }

    /// <summary>Raw bytes opcodes of protocol 3+ (protocol 2 goes through _codecs.encode instead).</summary>
    public void Bytes(byte[] value)
    {
        if (value.Length < 256) { Op(Pickle.Op.SHORT_BINBYTES); Op((byte)value.Length); }
        else { Op(Pickle.Op.BINBYTES); UInt32((uint)value.Length); }
        _out.Write(value);
    }

    public void ByteArray8(byte[] value)
    {
        Op(Pickle.Op.BYTEARRAY8);
        UInt64((ulong)value.LongLength);
        _out.Write(value);
    }

    /// <summary>A global, memoized by name: GLOBAL below protocol 4, STACK_GLOBAL from 4 on.</summary>
    public void Global(string module, string name)
    {
        string key = module + "\n" + name;
        if (_globalMemo.TryGetValue(key, out int slot)) { Get(slot); return; }
        if (Protocol >= 4)
        {
            String(module);
            String(name);
            Op(Pickle.Op.STACK_GLOBAL);
        }
        else
        {
            Op(Pickle.Op.GLOBAL);
            _out.Write(Encoding.ASCII.GetBytes(ToPy2Module(module) + "\n" + name + "\n"));
        }
        slot = _memo.Count + _globalMemo.Count;
        if (Protocol >= 4) Op(Pickle.Op.MEMOIZE);
        else if (slot < 256) { Op(Pickle.Op.BINPUT); Op((byte)slot); }
        else { Op(Pickle.Op.LONG_BINPUT); UInt32((uint)slot); }
        _globalMemo[key] = slot;
    }

    // CPython's fix_imports writes Python 3 module names as their Python 2 spelling below protocol 3.
    private string ToPy2Module(string module) => Protocol < 3 && module == "builtins" ? "__builtin__" : module;

    private void Get(int slot)
    {
        if (slot < 256) { Op(Pickle.Op.BINGET); Op((byte)slot); }
        else { Op(Pickle.Op.LONG_BINGET); UInt32((uint)slot); }
    }

    // CPython encodes with 'surrogatepass'; .NET's UTF-8 would replace a lone surrogate with '?'.
    private static byte[] Utf8(string s) => SurrogatePassUtf8.Encode(s);

    private void UInt16(ushort v) { Span<byte> b = stackalloc byte[2]; BinaryPrimitives.WriteUInt16LittleEndian(b,
        v); _out.Write(b); }
    private void Int32(int v) { Span<byte> b = stackalloc byte[4]; BinaryPrimitives.WriteInt32LittleEndian(b,
        v); _out.Write(b); }
    private void UInt32(uint v) { Span<byte> b = stackalloc byte[4]; BinaryPrimitives.WriteUInt32LittleEndian(b,
        v); _out.Write(b); }
    private void UInt64(ulong v) { Span<byte> b = stackalloc byte[8]; BinaryPrimitives.WriteUInt64LittleEndian(b,
        v); _out.Write(b); }
}
