using TorchSerial.Errors;
using TorchSerial.Pickle;
using TorchSerial.Python;
using TorchSerial.Torch;
using System.Numerics;
using Xunit;

namespace TorchSerial.Tests;

/// <summary>The unpickler against pickles CPython wrote at protocols 0 to 5 (tests/fixtures/pickles).</summary>
public class PickleMachineTests
{
    /// <summary>Unpickles from memory, as a zip's data.pkl is read (with the memo scan).</summary>
    internal static object? Unpickle(byte[] bytes, GlobalPolicy? policy = null)
        => new Unpickler(new PickleInput(bytes, bytes.Length, "test"), Hooks(policy), StringEncoding.Utf8).Load();

    /// <summary>Unpickles from a stream, as the legacy formats are read (every memo entry kept).</summary>
    internal static object? UnpickleStream(byte[] bytes, GlobalPolicy? policy = null)
    {
        using var ms = new MemoryStream(bytes);
        return new Unpickler(new PickleInput(ms, bytes.Length, "test"), Hooks(policy), StringEncoding.Utf8).Load();
    }

    private static PickleHooks Hooks(GlobalPolicy? policy)
        => TorchGlobals.Hooks(policy ?? GlobalPolicy.Default, _ => throw new InvalidOperationException("no persistent ids here"));

    [Theory]
    [InlineData(0)] [InlineData(1)] [InlineData(2)] [InlineData(3)] [InlineData(4)] [InlineData(5)]
    public void Every_protocol_yields_the_same_values(int protocol)
    {
        // Protocols 0 and 1 pickle OrderedDict through copyreg._reconstructor, which torch's allow-list refuses too.
        var policy = protocol < 2 ? new GlobalPolicy(new[] { "copyreg._reconstructor", "builtins.object" }) : null;
        var d = Assert.IsType<PyDict>(Unpickle(File.ReadAllBytes(Fixtures.Pickle($"values_p{protocol}.pkl")), policy));
        var expectedKeys = Fixtures.Expected.GetProperty("pickles").GetProperty($"values_p{protocol}.pkl").GetProperty("keys")
            .EnumerateArray().Select(k => k.GetString());
        Assert.Equal(expectedKeys, ExpectedTensors.Names(d));
        Assert.Equal(5L, d["int"]);
        Assert.Equal(-70000L, d["neg"]);
        Assert.Equal(BigInteger.Pow(2, 100), d["big"]);
        Assert.Equal(-BigInteger.Pow(2, 70), d["negbig"]);
        Assert.Equal(0.1, d["float"]);
        Assert.Equal("h\u00e9llo", d["str"]);
        Assert.Equal(new byte[] { 0, 1, 0xFE }, Assert.IsType<byte[]>(d["bytes"]));
        var list = Assert.IsType<PyList>(d["list"]);
        Assert.Equal(1L, list[0]);
        Assert.Equal(new object?[] { 2L, 3L }, Assert.IsType<PyList>(list[1]));
        Assert.Equal(new object?[] { 1L, "a", null, true, false }, Assert.IsType<PyTuple>(d["tuple"]));
        var empty = Assert.IsType<PyTuple>(d["empty"]);
        Assert.Empty(Assert.IsType<PyTuple>(empty[0]));
        Assert.Empty(Assert.IsType<PyList>(empty[1]));
        Assert.Empty(Assert.IsType<PyDict>(empty[2]));
        var shared = Assert.IsType<PyTuple>(d["shared"]);
        Assert.Same(shared[0], shared[1]);
        if (protocol >= 2)
        {
            var od = Assert.IsType<PyDict>(d["odict"]);
            Assert.True(od.IsOrderedDict);
            Assert.Equal(new[] { "b", "a" }, ExpectedTensors.Names(od));
        }
    }

    [Fact]
    public void Nesting_200000_deep_neither_overflows_nor_recurses()
    {
        const int depth = 200_000;
        var bytes = new List<byte> { 0x80, 2 };
        for (int i = 0; i < depth; i++) bytes.Add((byte)']');
        for (int i = 0; i < depth - 1; i++) bytes.Add((byte)'a');
        bytes.Add((byte)'.');
        var root = Unpickle(bytes.ToArray());
        int measured = 0;
        for (var cur = root as PyList; cur is not null; cur = cur.Count > 0 ? cur[0] as PyList : null) measured++;
        Assert.Equal(depth, measured);
        Assert.Empty(TensorCollector.Collect(root));
    }

    [Fact]
    public void A_self_referencing_list_does_not_loop()
    {
        // l = []; l.append(l)
        var root = Assert.IsType<PyList>(Unpickle(new byte[] { 0x80, 2, (byte)']', (byte)'q', 0, (byte)'h', 0, (byte)'a', (byte)'.' }));
        Assert.Same(root, root[0]);
        Assert.Empty(TensorCollector.Collect(root));
    }

    [Theory]
    [InlineData(new byte[] { 0x80, 2, (byte)'a', (byte)'.' }, ErrorIds.PickleStructure)]      // APPEND on an empty stack
    [InlineData(new byte[] { 0x80, 2, (byte)'t', (byte)'.' }, ErrorIds.PickleStructure)]      // TUPLE without MARK
    [InlineData(new byte[] { 0x80, 9, (byte)'N', (byte)'.' }, ErrorIds.UnknownOpcode)]        // protocol 9
    [InlineData(new byte[] { 0x80, 2, (byte)'X', 0xFF, 0xFF, 0xFF, 0x7F }, ErrorIds.PickleTruncated)] // 2 GiB string claim
    [InlineData(new byte[] { 0x80, 2, 0x82, 1, (byte)'.' }, ErrorIds.UnknownOpcode)]          // EXT1
    [InlineData(new byte[] { 0x80, 2, (byte)'N', (byte)'N', (byte)'.' }, ErrorIds.PickleStructure)] // two values at STOP
    public void Malformed_pickles_fail_with_an_error_id(byte[] bytes, string errorId)
        => Assert.Equal(errorId, Assert.Throws<TorchSerialException>(() => Unpickle(bytes)).ErrorId);

    [Fact]
    public void Refused_globals_are_refused_before_any_use()
    {
        var bytes = new byte[] { 0x80, 2 }.Concat("cbuiltins\neval\n."u8.ToArray()).ToArray();
        var ex = Assert.Throws<TorchSerialException>(() => Unpickle(bytes));
        Assert.Equal(ErrorIds.UnsafeGlobal, ex.ErrorId);
        Assert.Contains("evaluates Python code", ex.Message);
    }
}
