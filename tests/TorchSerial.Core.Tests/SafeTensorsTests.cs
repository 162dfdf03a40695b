using System.Buffers.Binary;
using System.Text;
using TorchSerial.Containers;
using TorchSerial.Errors;
using TorchSerial.Python;
using TorchSerial.Reading;
using TorchSerial.Tensors;
using TorchSerial.Writing;
using Xunit;

namespace TorchSerial.Tests;

/// <summary>safetensors files crafted from the format description by tests/fixtures/formats.py, and our
/// writer.</summary>
public class SafeTensorsTests
{
    public static IEnumerable<object[]> GoodFiles() => FormatFixtures.Names("safetensors");

    public static IEnumerable<object[]> BadFiles() => FormatFixtures.Errors("safetensors_errors");

    [Theory]
    [MemberData(nameof(GoodFiles))]
    public void Every_dtype_loads_eagerly_and_lazily_with_the_bytes_written(string file)
    {
        var expected = FormatFixtures.Expected.GetProperty("safetensors").GetProperty(file);
        var eager = CheckpointReader.Load(FormatFixtures.File_(file));
        Assert.Equal(CheckpointFormat.SafeTensors, eager.Format);
        Assert.All(eager.Storages, s => Assert.True(s.IsLoaded));
        FormatFixtures.AssertTensors(expected.GetProperty("tensors"), eager.Tensors);
        using var lazy = CheckpointReader.Open(FormatFixtures.File_(file));
        Assert.True(lazy.IsLazy);
        Assert.All(lazy.Storages, s => Assert.False(s.IsLoaded));
        FormatFixtures.AssertTensors(expected.GetProperty("tensors"), lazy.Tensors);
        Assert.All(lazy.Tensors, t => Assert.Equal(FormatFixtures.File_(file), t.SourceFile));

        var meta = expected.GetProperty("metadata");
        if (meta.ValueKind == System.Text.Json.JsonValueKind.Null) Assert.Null(eager.Metadata);
        else
            Assert.Equal(meta.EnumerateObject().Select(p => (p.Name, p.Value.GetString())),
                eager.Metadata!.Cast<System.Collections.DictionaryEntry>().Select(e => ((string)e.Key,
                    (string?)e.Value)));
    }

    [Fact]
    public void F4_holds_two_values_per_element_and_unsigned_types_keep_their_bytes()
    {
        var ckpt = CheckpointReader.Load(FormatFixtures.File_("st_dtypes.safetensors"));
        var f4 = ckpt.Tensors.Single(t => t.Name == "f4");
        Assert.Equal(DType.Float4E2M1FNx2, f4.DTypeInfo);
        Assert.Equal(new long[] { 2, 2 }, f4.Shape.ToArray());
        Assert.Equal(new byte[] { 0x21, 0x43, 0x65, 0xF7 }, f4.GetBytes());
        Assert.Equal(new ulong[] { 1, ulong.MaxValue }, (ulong[])ckpt.Tensors.Single(t => t.Name == "u64").ToArray());
        Assert.Empty(ckpt.Tensors.Single(t => t.Name == "empty2d").GetBytes());
        Assert.Equal(0, ckpt.Tensors.Single(t => t.Name == "scalar").Rank);
    }

    [Theory]
    [MemberData(nameof(BadFiles))]
    public void Each_broken_rule_has_its_own_error_id(string file, string errorId)
    {
        var ex = Assert.Throws<TorchSerialException>(() => CheckpointReader.Load(FormatFixtures.File_(file)));
        Assert.Equal(errorId, ex.ErrorId);
        Assert.False(string.IsNullOrWhiteSpace(ex.Message));
    }

    [Fact]
    public void The_writer_matches_the_reference_layout_byte_for_byte()
    {
        var source = CheckpointReader.Load(FormatFixtures.File_("st_reference_source.pt"));
        var output = new MemoryStream();
        CheckpointWriter.Save(source.Root, output, new SaveOptions { Layout = SaveLayout.SafeTensors });
        Assert.Equal(File.ReadAllBytes(FormatFixtures.File_("st_reference.safetensors")), output.ToArray());
    }

    [Fact]
    public void The_header_is_padded_with_spaces_to_eight_bytes_and_empty_dicts_write_the_reference_bytes()
    {
        var output = new MemoryStream();
        CheckpointWriter.Save(new PyDict(), output, new SaveOptions { Layout = SaveLayout.SafeTensors });
        var bytes = output.ToArray();
        long n = (long)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0, n % 8);
        Assert.Equal("{\"__metadata__\":{\"format\":\"pt\"}}", Encoding.UTF8.GetString(bytes, 8, (int)n).TrimEnd(' '));
    }

    [Fact]
    public void Identical_aliases_are_written_once_and_other_views_as_copies_so_no_name_is_lost()
    {
        var views = CheckpointReader.Load(Fixtures.Torch("views.pt"));
        var state = new PyDict();
        foreach (var t in views.Tensors) state.Add(t.Name, t);
        var copied = new List<string>();
        var output = new MemoryStream();
        CheckpointWriter.Save(state, output, new SaveOptions { Layout = SaveLayout.SafeTensors,
            Copied = copied.Add });
        output.Position = 0;
        var back = CheckpointReader.Load(output);
        // Only names that are the very same view are recorded as removed → kept, with the kept name first in
        // code-point order: 'nested.again' is 'base', and 'tied_a'/'tied_b' are 'nested.list.1.0'.
        Assert.Equal(new[] { "nested.again", "tied_a", "tied_b" }, back.Metadata!.Keys.Cast<string>()
            .Where(k => k != "format").OrderBy(k => k, StringComparer.Ordinal));
        Assert.Equal("base", back.Metadata!["nested.again"]);
        Assert.Equal("nested.list.1.0", back.Metadata!["tied_b"]);
        // Views with other shapes or offsets ('row' is base[1], 'transposed' is base.t()) cannot be rebuilt from a
        // name: each is written as its own copy, reported, with the logical bytes of the original.
        Assert.Equal(new[] { "col", "nested.list.0", "row", "slice", "transposed" }, copied);
        var expectedNames = views.Tensors.Select(t => t.Name).Except(new[] { "nested.again", "tied_a", "tied_b" });
        Assert.Equal(expectedNames.OrderBy(n => n, StringComparer.Ordinal),
            back.Tensors.Select(t => t.Name).OrderBy(n => n, StringComparer.Ordinal));
        foreach (var copy in back.Tensors)
        {
            var original = views.Tensors.First(t => t.Name == copy.Name);
            Assert.Equal(original.GetBytes(), copy.GetBytes());
            Assert.Equal(original.Shape, copy.Shape);
            if (copy.NumElements > 0) Assert.True(copy.IsContiguous, copy.Name);
        }
    }

    [Fact]
    public void Views_are_refused_by_name_with_DeduplicateOnly_and_every_name_is_written_with_CopySharedTensors()
    {
        var views = CheckpointReader.Load(Fixtures.Torch("views.pt"));
        var state = new PyDict();
        foreach (var t in views.Tensors.Where(t => t.Name is "row" or "col" or "tied_a" or "tied_b"))
            state.Add(t.Name, t);
        var ex = Assert.Throws<TorchSerialException>(() => CheckpointWriter.Save(state, new MemoryStream(),
            new SaveOptions { Layout = SaveLayout.SafeTensors, DeduplicateOnly = true }));
        Assert.Equal(ErrorIds.SafeTensorsSharedStorage, ex.ErrorId);
        Assert.Contains("'col', 'row' are views", ex.Message);
        var output = new MemoryStream();
        CheckpointWriter.Save(state, output, new SaveOptions { Layout = SaveLayout.SafeTensors,
            CopySharedTensors = true });
        output.Position = 0;
        var back = CheckpointReader.Load(output);
        Assert.Equal(new[] { "col", "row", "tied_a", "tied_b" }, back.Tensors.Select(t => t.Name)
            .OrderBy(n => n, StringComparer.Ordinal));
        Assert.Equal(new[] { "format" }, back.Metadata!.Keys.Cast<string>());
        Assert.Equal(new float[] { 1, 4 }, (float[])back.Tensors.Single(t => t.Name == "col").ToArray());
        Assert.Equal(new float[] { 3, 4, 5 }, (float[])back.Tensors.Single(t => t.Name == "row").ToArray());
        Assert.Equal(back.Tensors.Single(t => t.Name == "tied_a").GetBytes(),
            back.Tensors.Single(t => t.Name == "tied_b").GetBytes());
    }

    [Fact]
    public void Objects_safetensors_cannot_hold_are_refused_with_what_to_do()
    {
        var ckpt = CheckpointReader.Load(Fixtures.Torch("checkpoint.pt"));
        var ex = Assert.Throws<TorchSerialException>(() =>
            CheckpointWriter.Save(ckpt.Root, new MemoryStream(), new SaveOptions { Layout = SaveLayout.SafeTensors }));
        Assert.Equal(ErrorIds.InvalidSaveInput, ex.ErrorId);
        var complex = CheckpointReader.Load(Fixtures.Torch("dtypes.pt"));
        ex = Assert.Throws<TorchSerialException>(() =>
            CheckpointWriter.Save(complex.Root, new MemoryStream(),
                new SaveOptions { Layout = SaveLayout.SafeTensors }));
        Assert.Equal(ErrorIds.UnsupportedSaveFormat, ex.ErrorId);
        Assert.Contains("complex128", ex.Message);
    }

    [Fact]
    public void Names_sort_by_code_point_as_rust_compares_them()
    {
        // U+FF21 (a BMP letter) sorts before U+1F600 (a surrogate pair in UTF-16) by code point, after it by UTF-16
        // unit.
        Assert.True(SafeTensorsFormat.CompareNames("\uFF21", "\U0001F600") < 0);
        Assert.True(string.CompareOrdinal("\uFF21", "\U0001F600") > 0);
    }

    [Fact]
    public void A_file_changed_after_a_lazy_open_is_refused_on_read()
    {
        string path = Path.Combine(Path.GetTempPath(), $"ts-st-{Guid.NewGuid():N}.safetensors");
        File.Copy(FormatFixtures.File_("st_reference.safetensors"), path);
        try
        {
            using var lazy = CheckpointReader.Open(path);
            using (var f = new FileStream(path, FileMode.Open, FileAccess.Write,
                FileShare.ReadWrite | FileShare.Delete))
            {
                f.Position = f.Length - 1;
                f.WriteByte(0x42);
                f.Flush();
            }
            File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddMinutes(5));
            var ex = Assert.Throws<TorchSerialException>(() => lazy.Tensors[0].GetBytes());
            Assert.Equal(ErrorIds.CheckpointChanged, ex.ErrorId);
        }
        finally { File.Delete(path); }
    }
}
