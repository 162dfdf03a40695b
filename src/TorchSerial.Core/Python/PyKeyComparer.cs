using TorchSerial.Errors;
using System.Collections;
using System.Numerics;

namespace TorchSerial.Python;

/// <summary>
/// Python equality for hashable keys: 1 == 1.0 == True, tuples compare element-wise. Hashes agree with
/// equality without collapsing distinct large integers onto one double (which would make dict inserts
/// quadratic), and nested tuples are walked with a bounded depth, never by unbounded recursion.
/// </summary>
internal sealed class PyKeyComparer : IEqualityComparer
{
    public static readonly PyKeyComparer Instance = new();
    private const int MaxDepth = 64;

    public new bool Equals(object? x, object? y) => Equals(x, y, 0);

    public int GetHashCode(object obj) => Hash(obj, 0);

    private bool Equals(object? x, object? y, int depth)
    {
        if (ReferenceEquals(x, y)) return true;
        // Most keys are str (a state_dict's names): a str equals only a str.
        if (x is string sx) return y is string sy && string.Equals(sx, sy);
        if (x is null || y is null) return false;
        if (IsNumber(x) && IsNumber(y)) return NumbersEqual(x, y);
        if (x is PyTuple tx && y is PyTuple ty)
        {
            if (tx.Count != ty.Count) return false;
            if (depth >= MaxDepth) throw TooDeep();
            for (int i = 0; i < tx.Count; i++) if (!Equals(tx[i], ty[i], depth + 1)) return false;
            return true;
        }
        if (x is byte[] bx && y is byte[] by) return bx.AsSpan().SequenceEqual(by);
        return x.Equals(y);
    }

    private int Hash(object? obj, int depth)
    {
        switch (obj)
        {
            case string s: return s.GetHashCode();
            case null: return 0;
            case bool b: return b ? 1 : 0;
            case long l: return l.GetHashCode();
            case int i: return ((long)i).GetHashCode();
            case BigInteger big: return big >= long.MinValue
                && big <= long.MaxValue ? ((long)big).GetHashCode() : big.GetHashCode();
            case double d:
                // An integral double hashes like the integer it equals; others hash as themselves.
                if (Math.Floor(d) == d && d >= long.MinValue
                    && d < 9.2233720368547758E18) return ((long)d).GetHashCode();
                if (Math.Floor(d) == d && double.IsFinite(d)) return new BigInteger(d).GetHashCode();
                return d.GetHashCode();
            case PyTuple t:
                if (depth >= MaxDepth) throw TooDeep();
                int h = 17;
                foreach (var o in t) h = unchecked(h * 31 + Hash(o, depth + 1));
                return h;
            case byte[] bytes:
                var hc = new HashCode();
                hc.AddBytes(bytes);
                return hc.ToHashCode();
            default: return obj.GetHashCode();
        }
    }

    private static bool IsNumber(object o) => o is bool or long or int or double or BigInteger;

    private static bool NumbersEqual(object x, object y) => (x, y) switch
    {
        (double a, double b) => a == b,
        (double d, _) => IntegralEquals(d, y),
        (_, double d) => IntegralEquals(d, x),
        _ => AsBig(x) == AsBig(y),
    };

    private static bool IntegralEquals(double d, object integer) => double.IsFinite(d) && Math.Floor(d) == d
        && new BigInteger(d) == AsBig(integer);

    private static BigInteger AsBig(object o) => o switch
    {
        bool b => b ? 1 : 0,
        long l => l,
        int i => i,
        BigInteger b => b,
        _ => 0,
    };

    private static TorchSerialException TooDeep() => new(ErrorIds.PickleTooDeep, ErrorKind.InvalidData,
        $"A dict key or set item is a tuple nested more than {MaxDepth} levels deep; TorchSerial refuses it rather " +
            "than risk the stack.");
}
