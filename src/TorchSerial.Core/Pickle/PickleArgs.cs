using TorchSerial.Errors;
using TorchSerial.Python;
using System.Numerics;

namespace TorchSerial.Pickle;

/// <summary>Typed access to the arguments of a modelled call, with clear errors for malformed pickles.</summary>
internal static class PickleArgs
{
    public static void Count(PyTuple args, string func, int min, int max)
    {
        if (args.Count < min || args.Count > max)
            throw Bad($"{func} expects {(min == max ? min.ToString() : $"{min} to {max}")} arguments but the pickle gives {args.Count}.");
    }

    public static long Long(object? value, string what) => value switch
    {
        long l => l,
        int i => i,
        bool b => b ? 1 : 0,
        BigInteger big when big >= long.MinValue && big <= long.MaxValue => (long)big,
        BigInteger => throw Fail.Data(ErrorIds.ArithmeticOverflow, $"{what} is an integer too large for 64 bits."),
        _ => throw Bad($"{what} should be an integer but is {Describe(value)}."),
    };

    public static double Double(object? value, string what) => value switch
    {
        double d => d,
        long l => l,
        bool b => b ? 1 : 0,
        BigInteger big => (double)big,
        _ => throw Bad($"{what} should be a number but is {Describe(value)}."),
    };

    public static bool Bool(object? value, string what) => value switch
    {
        bool b => b,
        long l => l != 0,
        _ => throw Bad($"{what} should be a bool but is {Describe(value)}."),
    };

    public static string String(object? value, string what) => value switch
    {
        string s => s,
        // Python 2 strings loaded with -Encoding bytes: internal fields are ASCII by construction (torch's
        // _maybe_decode_ascii).
        byte[] b => System.Text.Encoding.Latin1.GetString(b),
        _ => throw Bad($"{what} should be a string but is {Describe(value)}."),
    };

    public static long[] LongSequence(object? value, string what)
    {
        IReadOnlyList<object?> items = value switch
        {
            PyTuple t => t,
            PyList l => l,
            TorchSize s => s.Select(x => (object?)x).ToList(),
            _ => throw Bad($"{what} should be a tuple of integers but is {Describe(value)}."),
        };
        if (items.Count == 0) return Array.Empty<long>();
        var r = new long[items.Count];
        // Two sequences a tensor (shape, stride): the element's name is built only for the error.
        for (int i = 0; i < r.Length; i++)
            r[i] = items[i] is long l ? l : Long(items[i], $"{what}[{i}]");
        return r;
    }

    public static PyTuple Tuple(object? value, string what)
        => value as PyTuple ?? throw Bad($"{what} should be a tuple but is {Describe(value)}.");

    /// <summary>What CPython cannot hash, so cannot be a dict key or a set item (TypeError: unhashable type).</summary>
    public static bool IsUnhashable(object? value)
        => value is PyList or PyDict or PyByteArray or PySet { IsFrozen: false };

    public static string Describe(object? value) => value switch
    {
        null => "None",
        string s => $"the string '{(s.Length > 40 ? s[..40] + "…" : s)}'",
        PyTuple t => $"a tuple of {t.Count}",
        PyList l => $"a list of {l.Count}",
        PyDict => "a dict",
        _ => "a " + value.GetType().Name.ToLowerInvariant(),
    };

    public static TorchSerialException Bad(string message) => Fail.Data(ErrorIds.PickleStructure, message);
}
