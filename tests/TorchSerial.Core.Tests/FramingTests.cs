using TorchSerial.Errors;
using Xunit;

namespace TorchSerial.Tests;

/// <summary>
/// Protocol-4 frames read by CPython's rules, so no pickle reads one way here and another way in CPython: a read that
/// starts at a frame's end leaves the frame (both of CPython's unpicklers agree), one that crosses it is refused (its
/// C unpickler reads on while its Python one stops: the same bytes read two ways), and a frame may not begin inside
/// another. Expected outcomes are what CPython's Python unpickler (pickle._loads) does with each byte string; a frame
/// longer than the data left is refused as its C unpickler refuses it ("pickle data was truncated").
/// </summary>
public class FramingTests
{
    private static byte[] Frame(int length)
        => new byte[] { 0x95 }.Concat(BitConverter.GetBytes((ulong)length)).ToArray();

    private static byte[] Pickle(params byte[][] parts) => new byte[] { 0x80, 4 }.Concat(parts.SelectMany(p
        => p)).ToArray();

    [Fact]
    public void An_argument_read_from_the_frame_end_onwards_is_outside_the_frame()
    {
        // BININT1's opcode is the frame's last byte and its argument the next byte after it: (5, 6).
        var data = Pickle(Frame(3), new byte[] { (byte)'K', 5, (byte)'K' }, new byte[] { 6, 0x86, (byte)'.' });
        var t = Assert.IsType<Python.PyTuple>(PickleMachineTests.Unpickle(data));
        Assert.Equal(new object?[] { 5L, 6L }, t.ToArray());
        Assert.IsType<Python.PyTuple>(PickleMachineTests.UnpickleStream(data));
    }

    [Fact]
    public void An_argument_that_crosses_the_frame_end_is_refused_from_memory_and_from_a_stream()
    {
        // BININT's 4-byte argument: 2 bytes in the frame, 2 after it. CPython's C unpickler reads 5, its Python
        // unpickler stops with "pickle exhausted before end of frame".
        var data = Pickle(Frame(3), new byte[] { (byte)'J', 5, 0 }, new byte[] { 0, 0, (byte)'.' });
        Assert.Equal(ErrorIds.PickleFraming, Assert.Throws<TorchSerialException>(()
            => PickleMachineTests.Unpickle(data)).ErrorId);
        Assert.Equal(ErrorIds.PickleFraming,
            Assert.Throws<TorchSerialException>(() => PickleMachineTests.UnpickleStream(data)).ErrorId);
    }

    [Fact]
    public void A_text_line_must_end_inside_its_frame_and_a_frame_may_not_start_inside_another()
    {
        var line = Pickle(Frame(3), "I12"u8.ToArray(), "3\n."u8.ToArray()); // INT's line crosses the frame end
        Assert.Equal(ErrorIds.PickleFraming, Assert.Throws<TorchSerialException>(()
            => PickleMachineTests.Unpickle(line)).ErrorId);
        var nested = Pickle(Frame(20), Frame(2), new byte[] { (byte)'K', 1, (byte)'.' }, new byte[8]);
        Assert.Equal(ErrorIds.PickleFraming, Assert.Throws<TorchSerialException>(()
            => PickleMachineTests.Unpickle(nested)).ErrorId);
        var longer = Pickle(Frame(100), new byte[] { (byte)'K', 1, (byte)'.' });
        Assert.Equal(ErrorIds.PickleTruncated, Assert.Throws<TorchSerialException>(()
            => PickleMachineTests.Unpickle(longer)).ErrorId);
    }
}
