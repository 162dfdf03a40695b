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
        Assert.Equal(new long[] { 0, 1 }, MemoReadsScan.Find(pickle)!.Indices());
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
        var memo = new PickleMemo(MemoReads.Of(1));
        object a = new(), b = new();
        memo.Set(0, a);
        memo.Set(1, b);
        memo.Set(0, a); // the same index again does not count twice
        Assert.Equal(2, memo.Count);
        Assert.True(memo.TryGet(1, out var got) && ReferenceEquals(got, b));
        Assert.False(memo.TryGet(7, out _));
        Assert.Throws<InvalidOperationException>(() => memo.TryGet(0, out _));
    }

    [Fact]
    public void Reads_far_past_the_bits_are_still_kept_and_known()
    {
        // A crafted pickle may read any index: past the bit range it goes to a set, and its value to the dictionary.
        long far = 1L << 40;
        var reads = MemoReads.Of(3, far, -2, 5000);
        Assert.Equal(new long[] { -2, 3, 5000, far }, reads.Indices());
        Assert.True(reads.Contains(far) && reads.Contains(-2) && !reads.Contains(4) && !reads.Contains(far + 1));
        var memo = new PickleMemo(reads);
        object a = new(), b = new(), c = new();
        memo.Set(far, a);
        memo.Set(5000, b);
        memo.Set(3, null); // None memoized and read back
        memo.Set(4, c);
        Assert.Equal(4, memo.Count);
        Assert.True(memo.TryGet(far, out var got) && ReferenceEquals(got, a));
        Assert.True(memo.TryGet(5000, out got) && ReferenceEquals(got, b));
        Assert.True(memo.TryGet(3, out got) && got is null);
        Assert.False(memo.TryGet(6, out _));
    }

    [Fact]
    public void A_few_small_reads_are_kept_by_index_and_None_is_a_value()
    {
        var memo = new PickleMemo(MemoReads.Of(0, 2));
        memo.Set(2, null);
        Assert.True(memo.TryGet(2, out var got) && got is null);
        Assert.False(memo.TryGet(0, out _)); // read by the pickle but never set: missing, as CPython says
        memo.Set(1, new object());
        Assert.Throws<InvalidOperationException>(() => memo.TryGet(1, out _));
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
