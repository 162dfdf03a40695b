using TorchSerial.Pickle;
using TorchSerial.Python;
using Xunit;

namespace TorchSerial.Tests;

/// <summary>Tuples of ints are shared by content within one pickle (the sizes and strides of most tensors repeat);
/// every other tuple is its own, and values and errors are what building each one gives.</summary>
public class IntTupleTests
{
    private static object? Load(params object[] ops)
    {
        var pickle = ops.SelectMany(p => p is string s ? System.Text.Encoding.ASCII.GetBytes(s)
            : new[] { Convert.ToByte(p) }).ToArray();
        var hooks = new PickleHooks
        {
            FindClass = (_, name, _, _) => throw new InvalidOperationException(name),
            PersistentLoad = _ => throw new InvalidOperationException("persid"),
        };
        return new Unpickler(new PickleInput(pickle, pickle.Length, "test"), hooks, StringEncoding.Utf8).Load();
    }

    [Fact]
    public void Equal_int_tuples_are_one_tuple_and_others_are_not()
    {
        // [(2, 3), (2, 3), (2, 300), (2, 'a'), (7,), (7,), (1, 2, 3, 4, 5)]: TUPLE2, TUPLE1 and MARK ... TUPLE
        var list = Assert.IsType<PyList>(Load(0x80, 2, ']', '(',
            'K', 2, 'K', 3, 0x86, 'K', 2, 'K', 3, 0x86, 'K', 2, 'M', 44, 1, 0x86, 'K', 2, 'X', 1, 0, 0, 0, "a", 0x86,
            'K', 7, 0x85, 'K', 7, 0x85, '(', 'K', 1, 'K', 2, 'K', 3, 'K', 4, 'K', 5, 't', 'e', '.'));
        Assert.Equal("[(2, 3), (2, 3), (2, 300), (2, 'a'), (7,), (7,), (1, 2, 3, 4, 5)]", PyRepr.Of(list));
        Assert.Same(list[0], list[1]);
        Assert.NotSame(list[0], list[2]);
        Assert.Same(list[4], list[5]);
        Assert.Equal(new object?[] { 1L, 2L, 3L, 4L, 5L }, Assert.IsType<PyTuple>(list[6]));
        // A tuple holding anything but ints is never shared: (2, 'a') twice gives two tuples.
        var strs = Assert.IsType<PyList>(Load(0x80, 2, ']', '(', 'K', 2, 'X', 1, 0, 0, 0, "a", 0x86,
            'K', 2, 'X', 1, 0, 0, 0, "a", 0x86, 'e', '.'));
        Assert.NotSame(strs[0], strs[1]);
    }

    [Fact]
    public void A_short_stack_fails_as_popping_one_by_one_does()
    {
        var ex = Assert.Throws<TorchSerial.Errors.TorchSerialException>(() => Load(0x80, 2, 'K', 1, 0x87, '.'));
        Assert.Contains("the stack is empty", ex.Message);
        Assert.Contains("offset 4", ex.Message);
    }
}
