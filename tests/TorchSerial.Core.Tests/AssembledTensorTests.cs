using TorchSerial.Errors;
using TorchSerial.Pickle;
using TorchSerial.Python;
using TorchSerial.Tensors;
using TorchSerial.Torch;
using Xunit;

namespace TorchSerial.Tests;

/// <summary>
/// Tensors put together from saved pieces (DCP chunks, ZeRO partitions): the bytes of every box layout, every range,
/// and the refusals torch's planner makes. The expected bytes are the whole tensor's own, cut by index arithmetic here.
/// </summary>
public class AssembledTensorTests
{
    private static readonly long[] Shape = { 5, 7, 3 };

    // The whole tensor: element i holds i, so a misplaced element shows.
    private static Tensor Whole() => Tensor.FromValues(Enumerable.Range(0, 105).Select(i => (object)(float)i).ToList(),
        DType.Float32, Shape);

    // The box of the whole tensor at offsets/sizes, as a contiguous tensor of its own (what torch.save wrote).
    private static TensorPiece Box(long[] offsets, long[] sizes)
    {
        var values = new List<object>();
        for (long i = 0; i < sizes[0]; i++)
            for (long j = 0; j < sizes[1]; j++)
                for (long k = 0; k < sizes[2]; k++)
                    values.Add((float)(((offsets[0] + i) * 7 + offsets[1] + j) * 3 + offsets[2] + k));
        return new TensorPiece(offsets, sizes, Tensor.FromValues(values, DType.Float32, sizes));
    }

    public static TheoryData<string> Layouts => new() { "dim0", "dim1", "dim2", "grid", "whole" };

    private static TensorPiece Box(long o0, long o1, long o2, long s0, long s1, long s2)
        => Box(new[] { o0, o1, o2 }, new[] { s0, s1, s2 });

    private static List<TensorPiece> Layout(string name) => name switch
    {
        "dim0" => new() { Box(0, 0, 0, 3, 7, 3), Box(3, 0, 0, 2, 7, 3) },
        "dim1" => new() { Box(0, 3, 0, 5, 4, 3), Box(0, 0, 0, 5, 3, 3) },
        "dim2" => new() { Box(0, 0, 0, 5, 7, 1), Box(0, 0, 1, 5, 7, 2) },
        "grid" => new() { Box(0, 0, 0, 2, 4, 3), Box(0, 4, 0, 2, 3, 3), Box(2, 0, 0, 3, 2, 3), Box(2, 2, 0, 3, 5, 3) },
        _ => new() { Box(0, 0, 0, 5, 7, 3) },
    };

    [Theory, MemberData(nameof(Layouts))]
    public void EveryLayoutReadsAsTheWholeTensor(string layout)
    {
        var expected = Whole().GetBytes();
        var buffer = new AssembledBuffer(Shape, DType.Float32, Layout(layout), "t");
        var all = new byte[buffer.Length];
        buffer.Read(0, all);
        Assert.Equal(expected, all);
        // Ranges of every alignment, as parallel fills, scratch buffers and byte readers ask for them.
        var random = new Random(5);
        for (int n = 0; n < 200; n++)
        {
            int start = random.Next(expected.Length), count = random.Next(expected.Length - start + 1);
            var part = new byte[count];
            buffer.Read(start, part);
            Assert.Equal(expected.AsSpan(start, count).ToArray(), part);
        }
    }

    [Fact]
    public void AStridedPieceIsReadInItsLogicalOrder()
    {
        // The piece's tensor is a transposed view: its logical elements, not its storage order, fill the box.
        var rows = Tensor.FromValues(Enumerable.Range(0, 6).Select(i => (object)(float)i).ToList(), DType.Float32,
            new long[] { 3, 2 });
        var transposed = new Tensor(rows.Storage, DType.Float32, 0, new long[] { 2, 3 }, new long[] { 1, 2 });
        var buffer = new AssembledBuffer(new long[] { 2, 3 }, DType.Float32,
            new[] { new TensorPiece(new long[] { 0, 0 }, new long[] { 2, 3 }, transposed) }, "t");
        var bytes = new byte[24];
        buffer.Read(0, bytes);
        Assert.Equal(new float[] { 0, 2, 4, 1, 3, 5 }, ElementDecoder.Decode(DType.Float32, bytes));
    }

    [Theory]
    [InlineData("overlap", "overlap")]
    [InlineData("hole", "never saved")]
    [InlineData("outside", "outside")]
    [InlineData("dtype", "holds a float64")]
    public void PiecesTorchWouldRefuseAreRefusedByName(string problem, string message)
    {
        var pieces = Layout("dim0");
        switch (problem)
        {
            case "overlap":
                pieces[1] = Box(2, 0, 0, 2, 7, 3);
                pieces.Add(Box(4, 0, 0, 1, 7, 3));
                break;
            case "hole": pieces.RemoveAt(1); break;
            case "outside": pieces[1] = Box(3, 0, 0, 3, 7, 3); break;
            case "dtype":
                pieces[1] = pieces[1] with { Source = Tensor.FromValues(Enumerable.Repeat((object)1.0, 42).ToList(),
                    DType.Float64, new long[] { 2, 7, 3 }) };
                break;
        }
        var ex = Assert.Throws<TorchSerialException>(()
            => new AssembledBuffer(Shape, DType.Float32, pieces, "Tensor 'w'"));
        Assert.Equal(ErrorIds.DistributedChunkInvalid, ex.ErrorId);
        Assert.Contains(message, ex.Message);
        Assert.Contains("Tensor 'w'", ex.Message);
    }

    [Fact]
    public void GetattrIsAdmittedOnlyAsAMemberLookupOfADataClass()
    {
        var policy = GlobalPolicy.Default.WithDataClasses(DistributedGlobals.Dcp1);
        var lookup = EnumMembers.Lookup(policy);
        var enumClass = new PyGlobal("torch.distributed.checkpoint.metadata", "_MEM_FORMAT_ENCODING");
        var member = Assert.IsType<PyObject>(lookup.Call(new PyTuple(new object?[]
            { enumClass, "TORCH_CONTIGUOUS_FORMAT" })));
        Assert.Equal("TORCH_CONTIGUOUS_FORMAT", member.Args[0]);
        foreach (var args in new[]
        {
            new object?[] { new PyGlobal("torch", "Size"), "x" }, // an allowed class, but not the folder's data
            new object?[] { enumClass, "__reduce_ex__" },
            new object?[] { enumClass, 3L },
            new object?[] { "os", "system" },
        })
        {
            var ex = Assert.Throws<TorchSerialException>(() => lookup.Call(new PyTuple(args)));
            Assert.Equal(ErrorIds.UnsafeGlobal, ex.ErrorId);
        }
        // Outside such a folder getattr is refused at the GLOBAL, as before.
        var plain = Assert.Throws<TorchSerialException>(() => TorchGlobals.Resolve("builtins", "getattr",
            GlobalPolicy.Default, "data.pkl", 0));
        Assert.Equal(ErrorIds.UnsafeGlobal, plain.ErrorId);
    }
}

/// <summary>Long saves (a folder consolidated) report tensors as well as bytes.</summary>
public class SaveItemProgressTests
{
    [Theory]
    [InlineData(Writing.SaveLayout.SafeTensors)]
    [InlineData(Writing.SaveLayout.Zip)]
    [InlineData(Writing.SaveLayout.Legacy)]
    public void EachWrittenItemIsCountedOnceInOrder(Writing.SaveLayout layout)
    {
        var root = new PyDict();
        for (int i = 0; i < 5; i++)
            root.Add($"w{i}", Tensor.FromValues(Enumerable.Range(0, i + 1).Select(v => (object)(float)v).ToList(),
                DType.Float32));
        var seen = new List<(int Done, int Total)>();
        using var ms = new MemoryStream();
        Writing.CheckpointWriter.Save(root, ms, new Writing.SaveOptions
            { Layout = layout, ItemProgress = (n, total) => seen.Add((n, total)) });
        Assert.Equal(Enumerable.Range(1, 5).Select(n => (n, 5)), seen);
    }
}
