using TorchSerial.Pickle;
using TorchSerial.Python;
using Xunit;

namespace TorchSerial.Tests;

/// <summary>
/// A call that only reads its arguments may be handed a reused tuple (torch's rebuild calls and storage ids): the
/// values it sees, the result, the memo and every error must be what the ops one by one give, and a tuple the
/// pickle reads back later must be a real one.
/// </summary>
public class BorrowedTupleTests
{
    private sealed class Recorder
    {
        public readonly List<PyTuple> Seen = new();

        public object? Copy(PyTuple args)
        {
            Seen.Add(args);
            return new PyList(args.ToArray());
        }
    }

    private static (object? Result, Recorder Calls, Recorder Ids) Run(byte[] pickle, bool inMemory)
    {
        var calls = new Recorder();
        var ids = new Recorder();
        var f = new Callable("m.f", calls.Copy) { BorrowsArgs = true };
        var hooks = new PickleHooks
        {
            FindClass = (module, name, _, _) => module == "m" && name == "f" ? f
                : throw new InvalidOperationException(name),
            PersistentLoad = pid => ids.Copy((PyTuple)pid!),
            BorrowsPersistentId = true,
        };
        using var ms = new MemoryStream(pickle);
        var input = inMemory ? new PickleInput(pickle, pickle.Length, "test")
            : new PickleInput(ms, pickle.Length, "test");
        return (new Unpickler(input, hooks, StringEncoding.Utf8).Load(), calls, ids);
    }

    private static byte[] P(params object[] parts)
        => parts.SelectMany(p => p is string s ? System.Text.Encoding.ASCII.GetBytes(s) : new[] { Convert.ToByte(p) })
            .ToArray();

    // GLOBAL 'm f', BINPUT 0
    private static readonly object[] F = { "cm\nf\n", 'q', 0 };

    [Fact]
    public void Calls_whose_tuples_are_never_read_again_share_one_reused_tuple()
    {
        // [f(1, 2), f(3, 4)]: EMPTY_LIST MARK  f MARK 1 2 TUPLE BINPUT 1 REDUCE
        //   BINGET 0 MARK 3 4 TUPLE BINPUT 2 REDUCE  APPENDS STOP
        var pickle = P(new object[] { 0x80, 2, ']', '(' }.Concat(F).Concat(new object[] {
            '(', 'K', 1, 'K', 2, 't', 'q', 1, 'R',
            'h', 0, '(', 'K', 3, 'K', 4, 't', 'q', 2, 'R', 'e', '.' }).ToArray());
        var (borrowed, calls, _) = Run(pickle, inMemory: true);
        var (plain, plainCalls, _) = Run(pickle, inMemory: false);
        Assert.Equal("[[1, 2], [3, 4]]", PyRepr.Of(borrowed));
        Assert.Equal(PyRepr.Of(plain), PyRepr.Of(borrowed));
        Assert.Same(calls.Seen[0], calls.Seen[1]);          // lent, then lent again
        Assert.All(calls.Seen[0], Assert.Null); // and emptied after each call
        Assert.NotSame(plainCalls.Seen[0], plainCalls.Seen[1]); // a stream (no look ahead) builds each tuple
    }

    [Fact]
    public void A_tuple_the_pickle_reads_back_is_a_real_one()
    {
        // (f(1, 2), <its args>): f MARK 1 2 TUPLE BINPUT 1 REDUCE BINGET 1 TUPLE2 STOP
        var pickle = P(new object[] { 0x80, 2 }.Concat(F).Concat(new object[] {
            '(', 'K', 1, 'K', 2, 't', 'q', 1, 'R', 'h', 1, 0x86, '.' }).ToArray());
        var (result, _, _) = Run(pickle, inMemory: true);
        Assert.Equal("([1, 2], (1, 2))", PyRepr.Of(result));
    }

    [Fact]
    public void A_persistent_id_is_lent_too_and_the_memo_still_counts_it()
    {
        // [pid(1, 2), pid(3, 4)], then MEMOIZE numbers the list by the memo's count: 4 entries set before it.
        var pickle = P(0x80, 4, ']', 'q', 0, '(', '(', 'K', 1, 'K', 2, 't', 'q', 1, 'Q', '(', 'K', 3, 'K', 4, 't',
            'q', 2, 'Q', 'e', 0x94, 'h', 3, 0x86, '.');
        var (borrowed, _, ids) = Run(pickle, inMemory: true);
        var (plain, _, plainIds) = Run(pickle, inMemory: false);
        Assert.Equal("([[1, 2], [3, 4]], [[1, 2], [3, 4]])", PyRepr.Of(borrowed));
        Assert.Equal(PyRepr.Of(plain), PyRepr.Of(borrowed));
        Assert.Same(ids.Seen[0], ids.Seen[1]);
        Assert.NotSame(plainIds.Seen[0], plainIds.Seen[1]);
    }

    [Fact]
    public void A_call_without_its_callable_fails_as_the_ops_one_by_one_do()
    {
        // MARK MARK 1 TUPLE BINPUT 0 REDUCE: nothing to call below the inner mark.
        var pickle = P(0x80, 2, '(', '(', 'K', 1, 't', 'q', 0, 'R', '.');
        var borrowed = Assert.Throws<Errors.TorchSerialException>(() => Run(pickle, inMemory: true));
        var plain = Assert.Throws<Errors.TorchSerialException>(() => Run(pickle, inMemory: false));
        Assert.Equal(plain.ErrorId, borrowed.ErrorId);
        Assert.Equal(plain.Message, borrowed.Message);
    }
}
