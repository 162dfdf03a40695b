using TorchSerial.Pickle;
using TorchSerial.Python;
using System.Collections;
using System.Numerics;
using Razorvine.Pickle;
using Xunit;

namespace TorchSerial.Tests;

/// <summary>
/// Razorvine.Pickle, an independent and mature unpickler, as an oracle for our VM: both read the same
/// CPython pickles and must agree on every value (Razorvine's dicts are unordered, so order is checked
/// elsewhere against CPython's own key lists).
/// </summary>
public class RazorvineDifferentialTests
{
    private sealed class PlainDict : IObjectConstructor
    {
        public object construct(object[] args) => new Hashtable();
    }

    static RazorvineDifferentialTests()
    {
        // Razorvine has no OrderedDict; a plain Hashtable receives its SETITEMS. (Its registry is process-wide,
        // which is fine in a test process and one reason the product does not use it: see docs/design.md.)
        Razorvine.Pickle.Unpickler.registerConstructor("collections", "OrderedDict", new PlainDict());
    }

    [Theory]
    [InlineData(2)] [InlineData(3)] [InlineData(4)] [InlineData(5)]
    public void Both_unpicklers_read_the_same_values(int protocol)
    {
        var bytes = File.ReadAllBytes(Fixtures.Pickle($"values_p{protocol}.pkl"));
        var theirs = new Razorvine.Pickle.Unpickler().loads(bytes);
        var ours = PickleMachineTests.Unpickle(bytes);
        AssertSame(theirs, ours, "root");
    }

    private static void AssertSame(object? theirs, object? ours, string path)
    {
        switch (theirs)
        {
            case null: Assert.Null(ours); break;
            case Hashtable h:
                var d = Assert.IsType<PyDict>(ours);
                Assert.Equal(h.Count, d.Count);
                foreach (DictionaryEntry e in h) AssertSame(e.Value, d[e.Key], $"{path}[{e.Key}]");
                break;
            case ArrayList l:
                var pl = Assert.IsType<PyList>(ours);
                Assert.Equal(l.Count, pl.Count);
                for (int i = 0; i < l.Count; i++) AssertSame(l[i], pl[i], $"{path}[{i}]");
                break;
            case object[] t:
                var pt = Assert.IsType<PyTuple>(ours);
                Assert.Equal(t.Length, pt.Count);
                for (int i = 0; i < t.Length; i++) AssertSame(t[i], pt[i], $"{path}[{i}]");
                break;
            case int or long:
                Assert.True(Convert.ToInt64(theirs) == Assert.IsType<long>(ours), path);
                break;
            case BigInteger b: Assert.Equal(b, Assert.IsType<BigInteger>(ours)); break;
            case byte[] bytes: Assert.Equal(bytes, Assert.IsType<byte[]>(ours)); break;
            default: Assert.Equal(theirs, ours); break;
        }
    }
}
