namespace TorchSerial.Pickle;

/// <summary>Pickle opcodes, protocols 0 to 5, named as in CPython's pickle module.</summary>
internal static class Op
{
    public const byte MARK = (byte)'(', STOP = (byte)'.', POP = (byte)'0', POP_MARK = (byte)'1', DUP = (byte)'2';
    public const byte FLOAT = (byte)'F', INT = (byte)'I', BININT = (byte)'J', BININT1 = (byte)'K', LONG = (byte)'L';
    public const byte BININT2 = (byte)'M', NONE = (byte)'N', PERSID = (byte)'P', BINPERSID = (byte)'Q',
        REDUCE = (byte)'R';
    public const byte STRING = (byte)'S', BINSTRING = (byte)'T', SHORT_BINSTRING = (byte)'U', UNICODE = (byte)'V';
    public const byte BINUNICODE = (byte)'X', APPEND = (byte)'a', BUILD = (byte)'b', GLOBAL = (byte)'c',
        DICT = (byte)'d';
    public const byte EMPTY_DICT = (byte)'}', APPENDS = (byte)'e', GET = (byte)'g', BINGET = (byte)'h',
        INST = (byte)'i';
    public const byte LONG_BINGET = (byte)'j', LIST = (byte)'l', EMPTY_LIST = (byte)']', OBJ = (byte)'o',
        PUT = (byte)'p';
    public const byte BINPUT = (byte)'q', LONG_BINPUT = (byte)'r', SETITEM = (byte)'s', TUPLE = (byte)'t';
    public const byte EMPTY_TUPLE = (byte)')', SETITEMS = (byte)'u', BINFLOAT = (byte)'G';
    // Protocol 2
    public const byte PROTO = 0x80, NEWOBJ = 0x81, EXT1 = 0x82, EXT2 = 0x83, EXT4 = 0x84, TUPLE1 = 0x85, TUPLE2 = 0x86;
    public const byte TUPLE3 = 0x87, NEWTRUE = 0x88, NEWFALSE = 0x89, LONG1 = 0x8A, LONG4 = 0x8B;
    // Protocol 3
    public const byte BINBYTES = (byte)'B', SHORT_BINBYTES = (byte)'C';
    // Protocol 4
    public const byte SHORT_BINUNICODE = 0x8C, BINUNICODE8 = 0x8D, BINBYTES8 = 0x8E, EMPTY_SET = 0x8F, ADDITEMS = 0x90;
    public const byte FROZENSET = 0x91, NEWOBJ_EX = 0x92, STACK_GLOBAL = 0x93, MEMOIZE = 0x94, FRAME = 0x95;
    // Protocol 5
    public const byte BYTEARRAY8 = 0x96, NEXT_BUFFER = 0x97, READONLY_BUFFER = 0x98;
}
