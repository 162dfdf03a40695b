namespace TorchSerial.Containers;

/// <summary>
/// Recognises a bare pickle of any protocol from its first bytes, by walking them as opcodes and arguments without
/// giving them any meaning: protocol 0 pickles are printable text (<c>cos\nsystem\n(S'id'\ntR.</c>) and protocol 1
/// ones start with any opcode, so neither a first byte nor "is it text" can tell them from an error page. A walk that
/// meets only known opcodes with well-formed arguments, up to STOP or the end of what was read, is a pickle; text
/// fails within a few bytes (a space or most punctuation is no opcode). Bytes after STOP do not matter (pickle.load
/// never reads them), and neither does damage after a GLOBAL or INST: the unpickler has imported that global, and may
/// have called it, before it reaches the damage.
/// </summary>
internal static class BarePickle
{
    private enum Arg : byte { None, Number, Float, Quoted, Text, Names, One, Two, Four, Eight, Len1, Len4, Len8,
        Stop, Bad }

    private static readonly Arg[] Args = Build();

    /// <param name="head">The first bytes of the data.</param>
    /// <param name="whole">True when <paramref name="head"/> is all of it: then only a walk that reaches STOP counts
    /// (a record holding "little" walks as LIST then an unfinished INST).</param>
    public static bool Recognise(ReadOnlySpan<byte> head, bool whole = false)
    {
        int at = 0, opcodes = 0;
        bool imported = false, damagedAfterImport = false; // a GLOBAL or INST with two good names was walked
        if (head.Length >= 2 && head[0] == 0x80) { if (head[1] > 5) return false; at = 2; }
        while (at < head.Length)
        {
            var arg = Args[head[at++]];
            opcodes++;
            // Damage after a global and one more opcode is still a pickle: the unpickler imported the global first.
            damagedAfterImport = imported && opcodes > 2;
            switch (arg)
            {
                case Arg.Bad: return damagedAfterImport;
                case Arg.Stop: return opcodes > 1 && (!whole || at == head.Length || opcodes > 2);
                case Arg.None: break;
                case Arg.Number or Arg.Float or Arg.Quoted or Arg.Text:
                    switch (Line(head, ref at, arg))
                    {
                        case false: return damagedAfterImport;
                        case null: return (!whole && opcodes > 1) || damagedAfterImport; // the head ends in the line
                    }
                    break;
                case Arg.Names:
                    for (int i = 0; i < 2; i++)
                        switch (Line(head, ref at, arg))
                        {
                            case false: return damagedAfterImport;
                            case null: return (!whole && opcodes > 1) || damagedAfterImport;
                        }
                    imported = true;
                    break;
                case Arg.One: at += 1; break;
                case Arg.Two: at += 2; break;
                case Arg.Four: at += 4; break;
                case Arg.Eight: at += 8; break;
                case Arg.Len1: if (at < head.Length) at += 1 + head[at]; break;
                case Arg.Len4:
                    if (at + 4 > head.Length) break;
                    uint length = BitConverter.ToUInt32(head[at..]);
                    // Text read as a length: no head holds a 256 MB string.
                    if (length > 1 << 28) return damagedAfterImport;
                    at += 4 + (int)length;
                    break;
                case Arg.Len8: at = head.Length; break;
            }
        }
        return (!whole && opcodes > 2) || damagedAfterImport; // the walk reached the head's end without a wrong byte
    }

    /// <summary>
    /// A protocol 0 text argument up to its newline, checked for its kind: digits for INT, LONG, GET and PUT (INT's
    /// 00/01 are booleans), a number for FLOAT, a quoted string for STRING, dotted identifiers for GLOBAL and INST,
    /// anything printable for UNICODE and PERSID. True when well formed, false when not, null when the head ends first.
    /// </summary>
    private static bool? Line(ReadOnlySpan<byte> head, ref int at, Arg kind)
    {
        int start = at;
        while (at < head.Length && head[at] != (byte)'\n') at++;
        if (at >= head.Length) return null;
        var line = head[start..at++];
        if (line.Length > 0 && line[^1] == (byte)'\r') line = line[..^1];
        foreach (byte b in line) if (b < 0x20 && b != (byte)'\t') return false;
        return kind switch
        {
            Arg.Number => line.Length > 0 && AllOf(line.TrimStart("-+"u8).TrimEnd("L"u8), "0123456789"u8),
            Arg.Float => line.Length > 0 && AllOf(line, "0123456789+-.eEinfaINFA"u8),
            Arg.Quoted => line.Length >= 2 && line[0] is (byte)'\'' or (byte)'"',
            Arg.Names => line.Length > 0 && AllOf(line,
                "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_."u8),
            _ => true,
        };
    }

    private static bool AllOf(ReadOnlySpan<byte> s, ReadOnlySpan<byte> allowed)
    {
        foreach (byte b in s) if (allowed.IndexOf(b) < 0) return false;
        return s.Length > 0;
    }

    private static Arg[] Build()
    {
        var a = Enumerable.Repeat(Arg.Bad, 256).ToArray();
        foreach (char c in "(.0)12NRabdeloestu]}")
            a[c] = Arg.None;
        a['.'] = Arg.Stop;
        foreach (char c in "ILgp") a[c] = Arg.Number;
        a['F'] = Arg.Float; a['S'] = Arg.Quoted; a['V'] = Arg.Text; a['P'] = Arg.Text;
        a['c'] = Arg.Names; a['i'] = Arg.Names;
        a['G'] = Arg.Eight; a['J'] = Arg.Four; a['K'] = Arg.One; a['M'] = Arg.Two;
        a['h'] = Arg.One; a['j'] = Arg.Four; a['q'] = Arg.One; a['r'] = Arg.Four;
        a['U'] = Arg.Len1; a['C'] = Arg.Len1; a['T'] = Arg.Len4; a['X'] = Arg.Len4; a['B'] = Arg.Len4;
        a['Q'] = Arg.None;
        // Protocol 2 to 5.
        a[0x80] = Arg.One; a[0x81] = Arg.None; a[0x82] = Arg.One; a[0x83] = Arg.Two; a[0x84] = Arg.Four;
        a[0x85] = Arg.None; a[0x86] = Arg.None; a[0x87] = Arg.None; a[0x88] = Arg.None; a[0x89] = Arg.None;
        a[0x8A] = Arg.Len1; a[0x8B] = Arg.Len4; a[0x8C] = Arg.Len1; a[0x8D] = Arg.Len8; a[0x8E] = Arg.Len8;
        a[0x8F] = Arg.None; a[0x90] = Arg.None; a[0x91] = Arg.None; a[0x92] = Arg.None; a[0x93] = Arg.None;
        a[0x94] = Arg.None; a[0x95] = Arg.Eight; a[0x96] = Arg.Len8; a[0x97] = Arg.None; a[0x98] = Arg.None;
        return a;
    }
}
