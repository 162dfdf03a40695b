using TorchSerial.Errors;
using TorchSerial.Python;
using TorchSerial.Reading;
using TorchSerial.Torch;
using TorchSerial.Writing;
using Xunit;

namespace TorchSerial.Tests;

/// <summary>Globals admitted with -AllowGlobal are written back as they were read, and still never run.</summary>
public class InertRoundTripTests
{
    [Theory]
    [InlineData("unsafe_global.pt", "posix", "system", "REDUCE")]
    [InlineData("subprocess_newobj.pt", "subprocess", "Popen", "NEWOBJ")]
    public void Inert_objects_survive_a_save(string file, string module, string name, string how)
    {
        var admit = new LoadOptions { Policy = new GlobalPolicy(new[] { "*" }) };
        var first = Assert.IsType<PyObject>(CheckpointReader.Load(Fixtures.Crafted(file), admit).Root);
        using var ms = new MemoryStream();
        CheckpointWriter.Save(first, ms);
        ms.Position = 0;
        // Saved back, the file is exactly as dangerous as it was: refused by default again.
        Assert.Equal(ErrorIds.UnsafeGlobal, Assert.Throws<TorchSerialException>(() => CheckpointReader.Load(new MemoryStream(ms.ToArray()))).ErrorId);
        var again = Assert.IsType<PyObject>(CheckpointReader.Load(ms, admit).Root);
        Assert.Equal((module, name, how), (again.Module, again.Name, again.ConstructedBy));
        Assert.Equal(PyRepr.Of(first.Args), PyRepr.Of(again.Args));
    }
}
