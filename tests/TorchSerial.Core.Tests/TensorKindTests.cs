using System.Text.Json;
using TorchSerial.Errors;
using TorchSerial.Python;
using TorchSerial.Reading;
using TorchSerial.Tensors;
using TorchSerial.Torch;
using TorchSerial.Writing;
using Xunit;

namespace TorchSerial.Tests;

/// <summary>
/// Every tensor kind and historical form of tests/fixtures/kinds (written by torch 1.13, or crafted by kinds.py where
/// 1.13 cannot write them), against what torch reported for each in kinds.json.
/// </summary>
public class TensorKindTests
{
    private static readonly JsonElement Expected =
        JsonDocument.Parse(File.ReadAllText(Path.Combine(Fixtures.Dir, "kinds.json"))).RootElement;

    private static string Kind(string name) => Path.Combine(Fixtures.Dir, "kinds", name);

    private static void AssertPart(JsonElement e, Tensor t)
    {
        Assert.Equal(e.GetProperty("dtype").GetString(), t.DType);
        Assert.Equal(e.GetProperty("shape").EnumerateArray().Select(x => x.GetInt64()), t.Shape.ToArray());
        Assert.Equal(e.GetProperty("stride").EnumerateArray().Select(x => x.GetInt64()), t.Stride.ToArray());
        Assert.Equal(e.GetProperty("offset").GetInt64(), t.StorageOffset);
        Assert.Equal(e.GetProperty("sha256").GetString(), Fixtures.Sha256(t.GetBytes()));
    }

    private static void AssertSparse(JsonElement e, SparseTensor s)
    {
        Assert.Equal(e.GetProperty("layout").GetString(), s.Layout);
        Assert.Equal(e.GetProperty("shape").EnumerateArray().Select(x => x.GetInt64()), s.Shape.ToArray());
        Assert.Equal(e.GetProperty("dtype").GetString(), s.DType);
        var parts = e.GetProperty("parts").EnumerateObject().ToList();
        Assert.Equal(parts.Select(p => p.Name), s.ComponentNamesInOrder);
        for (int i = 0; i < parts.Count; i++) AssertPart(parts[i].Value, s.Components[i]);
    }

    public static IEnumerable<object[]> SparseFiles() => new[]
    {
        new object[] { "sparse.pt", "coo" }, new object[] { "sparse.pt", "hybrid" },
        new object[] { "crafted_csc.pt", "s" }, new object[] { "crafted_bsr.pt", "s" },
        new object[] { "crafted_bsc.pt", "s" }, new object[] { "crafted_coo_coalesced.pt", "s" },
        new object[] { "sparse_buffer.pt", "adj" },
    };

    [Theory]
    [MemberData(nameof(SparseFiles))]
    public void Sparse_tensors_load_with_torchs_parts_and_save_back(string file, string key)
    {
        using var ckpt = CheckpointReader.Load(Kind(file));
        var root = Assert.IsType<PyDict>(ckpt.Root);
        var sparse = Assert.IsType<SparseTensor>(root[key]);
        AssertSparse(Expected.GetProperty(file).GetProperty(key), sparse);
        Assert.Equal(key, sparse.Name);
        // Listed as its parts, under torch's accessor names, each pointing back at the sparse tensor.
        var listed = ckpt.Tensors.Where(t => t.Sparse == sparse).Select(t => t.Name).ToArray();
        Assert.Equal(sparse.ComponentNamesInOrder.Select(n => key + "." + n), listed);
        if (Expected.GetProperty(file).TryGetProperty("is_coalesced", out var c)) Assert.Equal(c.GetBoolean(),
            sparse.IsCoalesced);

        // Saved from the object, and from the piped parts regrouped, it reloads as the same sparse tensor.
        foreach (var saved in new object[] { root, PipedStateDict.Build(ckpt.Tensors) })
        {
            using var ms = new MemoryStream();
            CheckpointWriter.Save(saved, ms);
            ms.Position = 0;
            var again = Assert.IsType<SparseTensor>(Assert.IsType<PyDict>(CheckpointReader.Load(ms).Root)[key]);
            AssertSparse(Expected.GetProperty(file).GetProperty(key), again);
        }
    }

    [Fact]
    public void A_sparse_buffer_leaves_the_rest_of_its_state_dict_readable_in_order()
    {
        using var ckpt = CheckpointReader.Load(Kind("sparse_buffer.pt"));
        var root = Assert.IsType<PyDict>(ckpt.Root);
        Assert.Equal(Expected.GetProperty("sparse_buffer.pt").GetProperty("keys").EnumerateArray().Select(k
            => k.GetString()),
            root.Keys.Cast<string>());
        AssertPart(Expected.GetProperty("sparse_buffer.pt").GetProperty("lin.weight"), ckpt.Tensors.Single(t
            => t.Name == "lin.weight"));
    }

    [Fact]
    public void Torch_113_csr_is_refused_as_torch_26_refuses_it_and_loads_when_admitted()
    {
        var ex = Assert.Throws<TorchSerialException>(() => CheckpointReader.Load(Kind("sparse_csr.pt")));
        Assert.Equal(ErrorIds.UnsafeGlobal, ex.ErrorId);
        Assert.Contains("torch._utils._rebuild_sparse_csr_tensor", ex.Message);
        var options = new LoadOptions
        {
            Policy = new GlobalPolicy(new[] { "torch._utils._rebuild_sparse_csr_tensor" }),
        };
        var root = Assert.IsType<PyDict>(CheckpointReader.Load(Kind("sparse_csr.pt"), options).Root);
        var csr = Assert.IsType<SparseTensor>(root["csr"]);
        AssertSparse(Expected.GetProperty("sparse_csr.pt").GetProperty("csr"), csr);
        using var ms = new MemoryStream();
        CheckpointWriter.Save(root, ms);
        ms.Position = 0;
        AssertSparse(Expected.GetProperty("sparse_csr.pt").GetProperty("csr"),
            Assert.IsType<SparseTensor>(Assert.IsType<PyDict>(CheckpointReader.Load(ms, options).Root)["csr"]));
    }

    [Fact]
    public void Meta_tensors_have_shape_dtype_and_stride_and_no_data()
    {
        var expected = Expected.GetProperty("meta.pt");
        using var ckpt = CheckpointReader.Load(Kind("meta.pt"));
        foreach (var name in new[] { "w", "t", "p", "real" })
        {
            var t = ckpt.Tensors.Single(x => x.Name == name);
            var e = expected.GetProperty(name);
            Assert.Equal(e.GetProperty("dtype").GetString(), t.DType);
            Assert.Equal(e.GetProperty("shape").EnumerateArray().Select(x => x.GetInt64()), t.Shape.ToArray());
            Assert.Equal(e.GetProperty("stride").EnumerateArray().Select(x => x.GetInt64()), t.Stride.ToArray());
            Assert.Equal(e.GetProperty("is_meta").GetBoolean(), t.IsMeta);
            Assert.Equal(e.GetProperty("is_parameter").GetBoolean(), t.IsParameter);
            if (!t.IsMeta) continue;
            Assert.Equal("meta", t.Device);
            Assert.Null(t.Preview());
            Assert.Equal(ErrorIds.MetaTensorHasNoData, Assert.Throws<TorchSerialException>(() => t.GetBytes()).ErrorId);
        }
        Assert.Single(ckpt.Storages); // only the real tensor has a storage record
        using var ms = new MemoryStream();
        CheckpointWriter.Save(ckpt.Root, ms);
        ms.Position = 0;
        using var again = CheckpointReader.Load(ms);
        Assert.Equal(ckpt.Tensors.Select(t => (t.Name, t.IsMeta, t.DType, string.Join(",", t.Shape),
            string.Join(",", t.Stride))),
            again.Tensors.Select(t => (t.Name, t.IsMeta, t.DType, string.Join(",", t.Shape), string.Join(",",
                t.Stride))));
        Assert.Single(again.Storages);
    }

    [Fact]
    public void Packed_quantized_tensors_count_two_or_four_values_to_a_byte()
    {
        using var ckpt = CheckpointReader.Load(Kind("packed.pt"));
        foreach (var name in new[] { "q4", "q2" })
        {
            var e = Expected.GetProperty("packed.pt").GetProperty(name);
            var t = ckpt.Tensors.Single(x => x.Name == name);
            Assert.Equal(e.GetProperty("dtype").GetString(), t.DType);
            Assert.Equal(e.GetProperty("shape").EnumerateArray().Select(x => x.GetInt64()), t.Shape.ToArray());
            Assert.Equal(e.GetProperty("packed").EnumerateArray().Select(x => (byte)x.GetInt32()), t.GetBytes());
            Assert.Equal(e.GetProperty("storage_nbytes").GetInt64(), t.NumBytes);
            Assert.Equal(e.GetProperty("scale").GetDouble(), t.Quantization!.Scale);
        }
    }

    [Fact]
    public void The_pre_04_form_builds_its_tensor_through_BUILD_state()
    {
        var root = Assert.IsType<PyDict>(CheckpointReader.Load(Kind("pre04.pt")).Root);
        AssertPart(Expected.GetProperty("pre04.pt").GetProperty("w"), Assert.IsType<Tensor>(root["w"]));
    }

    [Fact]
    public void A_legacy_whole_model_is_refused_by_default_and_admitted_gives_state_dict_names_and_source()
    {
        var expected = Expected.GetProperty("legacy_model.pt");
        var ex = Assert.Throws<TorchSerialException>(() => CheckpointReader.Load(Kind("legacy_model.pt")));
        Assert.Equal(ErrorIds.UnsafeGlobal, ex.ErrorId);
        var classes = expected.GetProperty("module_classes").EnumerateArray().Select(c => c.GetString()!).ToArray();
        Assert.Contains(classes[0], ex.Message);
        using var ckpt = CheckpointReader.Load(Kind("legacy_model.pt"),
            new LoadOptions { Policy = new GlobalPolicy(new[] { "*" }) });
        var state = expected.GetProperty("state_dict").EnumerateObject().ToList();
        Assert.Equal(state.Select(p => p.Name), ckpt.Tensors.Select(t => t.Name));
        foreach (var p in state) AssertPart(p.Value, ckpt.Tensors.Single(t => t.Name == p.Name));
        var model = Assert.IsType<PyObject>(ckpt.Root);
        var source = Assert.IsType<ModuleSource>(model.Type);
        Assert.Equal(classes[0], source.FullName);
        Assert.Contains("class Sequential", source.Source);
        Assert.EndsWith("container.py", source.SourceFile);
    }
}

/// <summary>A tensor's copies (renamed, re-stored) own their rare parts: re-grouping a copy into another sparse
/// tensor leaves the original's sparse tensor as it was.</summary>
public class TensorCopyTests
{
    [Fact]
    public void A_copy_made_part_of_another_sparse_tensor_leaves_the_original_alone()
    {
        var ckpt = CheckpointReader.Load(Path.Combine(Fixtures.Dir, "kinds", "sparse_buffer.pt"));
        var adj = Assert.IsType<SparseTensor>(((PyDict)ckpt.Root!)["adj"]);
        var regrouped = adj.WithComponents(adj.Components);
        Assert.All(regrouped.Components, c => Assert.Same(regrouped, c.Sparse));
        Assert.All(adj.Components, c => Assert.Same(adj, c.Sparse));
        Assert.Null(ckpt.Tensors.First(t => t.Name == "lin.weight").Sparse);
    }
}
