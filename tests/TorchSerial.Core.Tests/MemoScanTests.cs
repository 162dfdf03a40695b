using TorchSerial.Pickle;
using Xunit;

namespace TorchSerial.Tests;

/// <summary>The memo keeps only what a pickle reads back, and counts the rest as CPython's len(memo) does.</summary>
public class MemoScanTests
{
    [Fact]
    public void The_scan_finds_exactly_the_gets_of_a_pickle()
    {
        // PROTO 2, EMPTY_LIST, BINPUT 0, MARK, SHORT_BINUNICODE 'a', BINPUT 1, BINGET 1, LONG_BINGET 0 ... STOP
        byte[] pickle = { 0x80, 2, (byte)']', (byte)'q', 0, (byte)'(', 0x8C, 1, (byte)'a', (byte)'q', 1, (byte)'h', 1,
            (byte)'j', 0, 0, 0, 0, (byte)'0', (byte)'e', (byte)'.' };
        Assert.Equal(new long[] { 0, 1 }, MemoReadsScan.Find(pickle)!.OrderBy(i => i));
    }

    [Fact]
    public void The_scan_gives_up_on_what_it_does_not_know_so_every_entry_is_kept()
    {
        Assert.Null(MemoReadsScan.Find(new byte[] { 0x80, 2, 0xFF, (byte)'.' }));   // unknown opcode
        Assert.Null(MemoReadsScan.Find(new byte[] { 0x80, 2, (byte)']' }));          // no STOP
    }

    [Fact]
    public void Entries_nobody_reads_are_counted_but_not_kept()
    {
        var memo = new PickleMemo(new HashSet<long> { 1 });
        object a = new(), b = new();
        memo.Set(0, a);
        memo.Set(1, b);
        memo.Set(0, a); // the same index again does not count twice
        Assert.Equal(2, memo.Count);
        Assert.True(memo.TryGet(1, out var got) && ReferenceEquals(got, b));
        Assert.False(memo.TryGet(7, out _));
        Assert.Throws<InvalidOperationException>(() => memo.TryGet(0, out _));
    }

    [Theory]
    [InlineData("values_p2.pkl")]
    [InlineData("values_p3.pkl")]
    [InlineData("values_p4.pkl")]
    [InlineData("values_p5.pkl")]
    public void CPython_pickles_load_the_same_with_the_scan_as_without(string file)
    {
        var bytes = File.ReadAllBytes(Fixtures.Pickle(file));
        Assert.NotNull(MemoReadsScan.Find(bytes));
        var policy = new Torch.GlobalPolicy(new[] { "*" });
        var withScan = PickleMachineTests.Unpickle(bytes, policy);
        var streamed = PickleMachineTests.UnpickleStream(bytes, policy); // a stream input runs without the scan
        Assert.Equal(Python.PyRepr.Of(streamed), Python.PyRepr.Of(withScan));
    }
}
