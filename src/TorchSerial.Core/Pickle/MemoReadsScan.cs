using System.Buffers.Binary;
using System.Globalization;

namespace TorchSerial.Pickle;

/// <summary>
/// Which memo entries a pickle ever reads back, found by walking its opcodes without building anything.
/// Picklers memoize nearly every object, but a state_dict's pickle reads back only a few (the storage class,
/// the rebuild function, shared tensors): keeping the rest in the memo keeps every intermediate tuple of
/// every tensor alive to the end of the load, and the GC then spends half the load copying them between
/// generations. Entries nobody reads are therefore not kept. The walk frames opcodes exactly as the VM
/// does; where it meets anything it does not know, it gives up and every entry is kept.
/// </summary>
internal static class MemoReadsScan
{
    /// <summary>The memo indices the first pickle in <paramref name="pickle"/> reads (GET, BINGET, LONG_BINGET); null
    /// when unsure.</summary>
    public static MemoReads? Find(ReadOnlySpan<byte> pickle)
    {
        var reads = new MemoReads();
        int at = 0;
        while (at < pickle.Length)
        {
            byte op = pickle[at++];
            switch (op)
            {
                case Op.STOP: return reads;
                case Op.MARK or Op.POP or Op.POP_MARK or Op.DUP or Op.NONE or Op.NEWTRUE or Op.NEWFALSE or Op.EMPTY_TUPLE or Op.TUPLE
                    or Op.TUPLE1 or Op.TUPLE2 or Op.TUPLE3 or Op.EMPTY_LIST or Op.LIST or Op.APPEND or Op.APPENDS or Op.EMPTY_DICT
                    or Op.DICT or Op.SETITEM or Op.SETITEMS or Op.EMPTY_SET or Op.ADDITEMS or Op.FROZENSET or Op.REDUCE or Op.BUILD
                    or Op.NEWOBJ or Op.NEWOBJ_EX or Op.STACK_GLOBAL or Op.MEMOIZE or Op.BINPERSID or Op.OBJ or Op.READONLY_BUFFER:
                    break;
                case Op.PROTO or Op.BININT1 or Op.BINPUT: at += 1; break;
                case Op.BININT2: at += 2; break;
                case Op.BININT or Op.LONG_BINPUT: at += 4; break;
                case Op.BINFLOAT or Op.FRAME: at += 8; break;
                case Op.BINGET:
                    if (at + 1 > pickle.Length) return null;
                    reads.Add(pickle[at]);
                    at += 1;
                    break;
                case Op.LONG_BINGET:
                    if (at + 4 > pickle.Length) return null;
                    reads.Add(BinaryPrimitives.ReadUInt32LittleEndian(pickle[at..]));
                    at += 4;
                    break;
                case Op.SHORT_BINSTRING or Op.SHORT_BINUNICODE or Op.SHORT_BINBYTES or Op.LONG1:
                    if (at + 1 > pickle.Length) return null;
                    at += 1 + pickle[at];
                    break;
                case Op.BINSTRING or Op.BINUNICODE or Op.BINBYTES or Op.LONG4:
                    if (at + 4 > pickle.Length) return null;
                    long n4 = op is Op.BINSTRING or Op.LONG4
                        ? BinaryPrimitives.ReadInt32LittleEndian(pickle[at..])
                            : BinaryPrimitives.ReadUInt32LittleEndian(pickle[at..]);
                    if (n4 < 0 || n4 > pickle.Length) return null;
                    at += 4 + (int)n4;
                    break;
                case Op.BINUNICODE8 or Op.BINBYTES8 or Op.BYTEARRAY8:
                    if (at + 8 > pickle.Length) return null;
                    ulong n8 = BinaryPrimitives.ReadUInt64LittleEndian(pickle[at..]);
                    if (n8 > (ulong)pickle.Length) return null;
                    at += 8 + (int)n8;
                    break;
                case Op.GET:
                    int end = pickle[at..].IndexOf((byte)'\n');
                    if (end < 0 || !long.TryParse(pickle.Slice(at, end), NumberStyles.None,
                        CultureInfo.InvariantCulture, out long index)) return null;
                    reads.Add(index);
                    at += end + 1;
                    break;
                case Op.INT or Op.LONG or Op.FLOAT or Op.STRING or Op.UNICODE or Op.PERSID or Op.PUT:
                    if (!SkipLine(pickle, ref at)) return null;
                    break;
                case Op.GLOBAL or Op.INST:
                    if (!SkipLine(pickle, ref at) || !SkipLine(pickle, ref at)) return null;
                    break;
                default: return null; // EXT*, NEXT_BUFFER, or an unknown opcode: the VM will say what is wrong
            }
        }
        return null; // no STOP: the VM reports the truncation
    }

    private static bool SkipLine(ReadOnlySpan<byte> pickle, ref int at)
    {
        int end = pickle[at..].IndexOf((byte)'\n');
        if (end < 0) return false;
        at += end + 1;
        return true;
    }
}
