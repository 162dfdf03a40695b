using System.Collections;
using TorchSerial.Python;
using Xunit;

namespace TorchSerial.Tests;

/// <summary>PyDict's own table: Python's dict semantics (order, equal keys, re-insertion) on both sides of the point
/// where a small dict stops scanning and starts hashing, and through removals that compact it.</summary>
public class PyDictTests
{
    private static object[] Keys(PyDict d) => d.Keys.Cast<object>().ToArray();

    [Theory]
    [InlineData(3)]
    [InlineData(8)]
    [InlineData(9)]
    [InlineData(1000)]
    public void Keeps_insertion_order_and_finds_every_key(int n)
    {
        var d = new PyDict();
        for (int i = 0; i < n; i++) d.SetItem($"k{n - i}", (long)i);
        Assert.Equal(n, d.Count);
        Assert.Equal(Enumerable.Range(0, n).Select(i => (object)$"k{n - i}"), Keys(d));
        Assert.Equal(Enumerable.Range(0, n).Select(i => (object)(long)i), d.Values.Cast<object>());
        for (int i = 0; i < n; i++) Assert.Equal((long)i, d[$"k{n - i}"]);
        Assert.Null(d["absent"]);
        Assert.False(d.Contains("absent"));
    }

    [Fact]
    public void Setting_an_existing_key_keeps_its_place_and_Add_refuses_it()
    {
        var d = new PyDict();
        foreach (var k in new[] { "a", "b", "c" }) d.SetItem(k, k);
        d.SetItem("a", "again");
        Assert.Equal(new object[] { "a", "b", "c" }, Keys(d));
        Assert.Equal("again", d["a"]);
        Assert.Throws<ArgumentException>(() => d.Add("b", 1));
        Assert.Throws<ArgumentNullException>(() => d.SetItem(null!, 1));
    }

    [Fact]
    public void Keys_compare_as_in_Python()
    {
        var d = new PyDict();
        d.SetItem(1L, "int");
        d.SetItem(1.0, "float"); // 1 == 1.0: the same key, as in Python
        d.SetItem(true, "bool"); // and True == 1
        d.SetItem(new PyTuple(new object?[] { 1L, "x" }), "tuple");
        Assert.Equal(2, d.Count);
        Assert.Equal("bool", d[1L]);
        Assert.Equal("tuple", d[new PyTuple(new object?[] { 1.0, "x" })]);
        Assert.Equal(1L, Assert.IsType<long>(Keys(d)[0])); // the first key stays, as in Python
    }

    [Theory]
    [InlineData(6)]
    [InlineData(100)]
    public void A_removed_key_added_again_goes_last_and_compaction_keeps_order(int n)
    {
        var d = new PyDict();
        for (int i = 0; i < n; i++) d.SetItem((long)i, i);
        d.Remove(0L);
        d.SetItem(0L, "back");
        var expected = Enumerable.Range(1, n - 1).Select(i => (object)(long)i).Append(0L).ToList();
        Assert.Equal(expected, Keys(d));

        // Removing most keys compacts the slots; what is left keeps its order and stays findable.
        for (long i = 1; i < n - 1; i++) d.Remove(i);
        Assert.Equal(new object[] { (long)(n - 1), 0L }, Keys(d));
        Assert.Equal("back", d[0L]);
        Assert.Equal(n - 1, d[(long)(n - 1)]);
        d.Remove("absent");
        Assert.Equal(2, d.Count);
        for (long i = 100; i < 120; i++) d.SetItem(i, i);
        Assert.Equal(22, d.Count);
        Assert.Equal(119L, d[119L]);
    }

    [Fact]
    public void Enumeration_gives_entries_and_fails_when_the_dict_changes_under_it()
    {
        var d = new PyDict();
        d.SetItem("a", 1L);
        d.SetItem("b", 2L);
        var entries = new List<DictionaryEntry>();
        foreach (DictionaryEntry e in d) entries.Add(e);
        Assert.Equal(new[] { new DictionaryEntry("a", 1L), new DictionaryEntry("b", 2L) }, entries);

        var walk = d.GetEnumerator();
        Assert.True(walk.MoveNext());
        d.SetItem("c", 3L);
        Assert.Throws<InvalidOperationException>(() => walk.MoveNext());

        var copy = new DictionaryEntry[3];
        d.CopyTo(copy, 0);
        Assert.Equal("c", copy[2].Key);
        var keys = new object[3];
        d.Keys.CopyTo(keys, 0);
        Assert.Equal(new object[] { "a", "b", "c" }, keys);
        d.Clear();
        Assert.Empty(d);
        Assert.Empty(Keys(d));
    }
}

/// <summary>ToJson() on the Python values is json.dumps (the Pester suite checks it against Python's own output);
/// here, that the methods reach the toolbox's writer with the indent they were given.</summary>
public class PythonValueJsonTests
{
    [Fact]
    public void ToJson_on_a_dict_a_list_and_a_tuple_is_json_dumps()
    {
        var d = new PyDict();
        d.SetItem("a", new PyList(new object?[] { 1L, new PyTuple(new object?[] { true, null }) }));
        d.SetItem(3L, "x");
        Assert.Equal("{\"a\": [1, [true, null]], \"3\": \"x\"}", d.ToJson(null));
        Assert.Equal("{\n  \"a\": [\n    1,\n    [\n      true,\n      null\n    ]\n  ],\n"
            + "  \"3\": \"x\"\n}", d.ToJson());
        Assert.Equal("[\n 1,\n [\n  true,\n  null\n ]\n]", ((PyList)d["a"]!).ToJson(1));
        Assert.Equal("[true, null]", ((PyTuple)((PyList)d["a"]!)[1]!).ToJson(null));
    }
}
