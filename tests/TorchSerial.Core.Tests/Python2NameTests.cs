using System.Text.Json;
using TorchSerial.Errors;
using TorchSerial.Reading;
using TorchSerial.Scanning;
using TorchSerial.Torch;
using Xunit;

namespace TorchSerial.Tests;

/// <summary>Python 2 globals resolve to the name CPython imports: every entry of its _compat_pickle tables, as
/// craft.py recorded them from the Python that ran it.</summary>
public class Python2NameTests
{
    private static JsonElement Compat()
        => JsonDocument.Parse(File.ReadAllText(Path.Combine(Fixtures.Dir, "crafted.json"))).RootElement
            .GetProperty("compat_names");

    [Fact]
    public void Every_name_pair_maps_as_cpython_maps_it()
    {
        var pairs = Compat().GetProperty("pairs").EnumerateArray().ToList();
        Assert.True(pairs.Count > 80);
        foreach (var p in pairs)
            Assert.Equal(p[2].GetString(), TorchGlobals.Canonical(p[0].GetString()!, p[1].GetString()!));
    }

    [Fact]
    public void Every_module_rename_applies_to_names_without_a_pair_of_their_own()
    {
        var pairs = Compat().GetProperty("pairs").EnumerateArray()
            .Select(p => (p[0].GetString(), p[1].GetString())).ToHashSet();
        var modules = Compat().GetProperty("modules").EnumerateArray().ToList();
        Assert.True(modules.Count > 50);
        foreach (var m in modules)
        {
            Assert.DoesNotContain((m[0].GetString(), "SomeName"), pairs);
            Assert.Equal(m[1].GetString() + ".SomeName", TorchGlobals.Canonical(m[0].GetString()!, "SomeName"));
        }
    }

    [Fact]
    public void The_reported_python3_name_is_the_one_that_admits_it()
    {
        var path = Fixtures.Crafted("py2_names.pt");
        var report = CheckpointScanner.Scan(path);
        var expected = JsonDocument.Parse(File.ReadAllText(Path.Combine(Fixtures.Dir, "crafted.json"))).RootElement
            .GetProperty("py2_names.pt").GetProperty("globals").EnumerateArray().Select(e => e.GetString()).ToArray();
        Assert.Equal(expected, report.Globals.Select(g => g.FullName).ToArray());
        Assert.Equal("builtins.range", expected[0]);
        var refused = Assert.Throws<TorchSerialException>(() => CheckpointReader.Load(path));
        Assert.Contains("'builtins.range'", refused.Message);
        var admitted = new LoadOptions { Policy = new GlobalPolicy(report.Globals.Select(g => g.FullName)) };
        var root = Assert.IsType<Python.PyDict>(CheckpointReader.Load(path, admitted).Root);
        // xrange(5), admitted under its Python 3 name, is Python's range(0, 5).
        Assert.Equal(new Python.PyRange(0, 5, 1), Assert.IsType<Python.PyRange>(root["r"]));
    }
}

/// <summary>Text with lone surrogates, as CPython pickles it ('surrogatepass'), loads and saves unchanged.</summary>
public class LoneSurrogateTests
{
    [Fact]
    public void Lone_surrogates_load_as_python_holds_them_and_save_back_byte_for_byte()
    {
        var expected = JsonDocument.Parse(File.ReadAllText(Path.Combine(Fixtures.Dir, "crafted.json"))).RootElement
            .GetProperty("lone_surrogate.pt");
        var root = Assert.IsType<Python.PyDict>(CheckpointReader.Load(Fixtures.Crafted("lone_surrogate.pt")).Root);
        foreach (var key in new[] { "s", "t", "pair" })
        {
            var units = expected.GetProperty(key).EnumerateArray().Select(e => (char)e.GetInt32()).ToArray();
            Assert.Equal(new string(units), Assert.IsType<string>(root[key]));
        }
        Assert.Equal('\ud800', ((string)root["s"]!)[1]);
        using var saved = new MemoryStream();
        Writing.CheckpointWriter.Save(root, saved);
        saved.Position = 0;
        var again = Assert.IsType<Python.PyDict>(CheckpointReader.Load(saved).Root);
        Assert.Equal(root["s"], again["s"]);
        Assert.Equal(root["t"], again["t"]);
        Assert.Equal(root["pair"], again["pair"]);
    }

    [Fact]
    public void Bytes_that_are_not_utf8_even_with_surrogates_let_through_are_refused()
    {
        Assert.Null(Pickle.SurrogatePassUtf8.Decode(new byte[] { 0x61, 0xFF, 0x62 }));
        Assert.Null(Pickle.SurrogatePassUtf8.Decode(new byte[] { 0xED, 0xA0 }));
        Assert.Equal("a\ud800", Pickle.SurrogatePassUtf8.Decode(new byte[] { 0x61, 0xED, 0xA0, 0x80 }));
        Assert.Equal(new byte[] { 0xED, 0xBF, 0xBF }, Pickle.SurrogatePassUtf8.Encode("\udfff"));
    }
}
