using System.Text;
using TorchSerial.Containers;
using TorchSerial.Errors;
using TorchSerial.Python;
using TorchSerial.Reading;
using TorchSerial.Tensors;
using TorchSerial.Writing;
using Xunit;

namespace TorchSerial.Tests;

/// <summary>Sharded sets: fixtures in the transformers layout (shards by real torch.save), damaged sets, and our
/// writer.</summary>
public class ShardedSetTests
{
    public static IEnumerable<object[]> Sets() => FormatFixtures.Names("sets");

    public static IEnumerable<object[]> BadSets() => FormatFixtures.Errors("set_errors");

    [Theory]
    [MemberData(nameof(Sets))]
    public void A_set_opens_as_one_checkpoint_in_index_order_and_each_tensor_names_its_shard(string index)
    {
        var expected = FormatFixtures.Expected.GetProperty("sets").GetProperty(index);
        string path = FormatFixtures.File_(index);
        foreach (var ckpt in new[] { CheckpointReader.Load(path), CheckpointReader.Open(path) })
        {
            using (ckpt)
            {
                Assert.Equal(CheckpointFormat.ShardedSet, ckpt.Format);
                FormatFixtures.AssertTensors(expected.GetProperty("tensors"), ckpt.Tensors);
                var files = expected.GetProperty("tensors").EnumerateArray().Select(t
                    => t.GetProperty("file").GetString()).ToList();
                Assert.Equal(files.Select(f => Path.Combine(Path.GetDirectoryName(path)!, f!)), ckpt.Tensors.Select(t
                    => t.SourceFile));
                Assert.Equal(expected.GetProperty("total_size").GetInt64(), (long)ckpt.Metadata!["total_size"]!);
                var root = Assert.IsType<PyDict>(ckpt.Root);
                Assert.Equal(ckpt.Tensors.Select(t => t.Name), root.Keys.Cast<string>());
            }
        }
    }

    [Theory]
    [MemberData(nameof(BadSets))]
    public void Each_inconsistency_is_an_error_with_its_id_and_the_files_named(string index, string errorId)
    {
        var ex = Assert.Throws<TorchSerialException>(() => CheckpointReader.Open(FormatFixtures.File_(index)));
        Assert.Equal(errorId, ex.ErrorId);
        Assert.Contains(".bin", ex.Message + ex.Record);
    }

    [Fact]
    public void Tolerated_problems_become_warnings_and_the_shards_that_exist_load()
    {
        var warnings = new List<string>();
        using var ckpt = CheckpointReader.Open(FormatFixtures.File_("set_bad_missing_shard/pytorch_model.bin.index.json"),
            new LoadOptions { Warning = warnings.Add });
        Assert.Single(warnings);
        Assert.Contains("pytorch_model-00002-of-00002.bin", warnings[0]);
        Assert.Equal(new[] { "layer.0.weight", "layer.0.bias" }, ckpt.Tensors.Select(t => t.Name));
    }

    [Fact]
    public void The_split_is_huggingface_hubs_greedy_one()
    {
        // The docstring's example: [6, 6, 2, 6, 2, 2] under 10 gives [6], [6+2], [6+2+2].
        var sizes = new long[] { 6, 6, 2, 6, 2, 2 };
        var tensors = sizes.Select((s, i) => new KeyValuePair<string, Tensor>($"t{i}", Tensor.FromBytes(new byte[s],
            DType.UInt8, new[] { s }))).ToList();
        var (shards, total) = ShardSplit.Split(tensors, 10);
        Assert.Equal(24, total);
        Assert.Equal(new[] { "t0", "t1,t2", "t3,t4,t5" }, shards.Select(s => string.Join(',', s.Select(e => e.Key))));
        // A tensor over the limit is a shard of its own at once, before the shard still open.
        tensors.Insert(1, new("big", Tensor.FromBytes(new byte[11], DType.UInt8, new long[] { 11 })));
        (shards, _) = ShardSplit.Split(tensors, 10);
        Assert.Equal(new[] { "big", "t0", "t1,t2", "t3,t4,t5" }, shards.Select(s => string.Join(',', s.Select(e
            => e.Key))));
    }

    [Fact]
    public void Tensors_over_one_storage_stay_in_the_shard_of_the_first_and_count_once()
    {
        var views = CheckpointReader.Load(Fixtures.Torch("views.pt"));
        var list = views.Tensors.Select(t => new KeyValuePair<string, Tensor>(t.Name, t)).ToList();
        var (shards, total) = ShardSplit.Split(list, 40);
        Assert.Equal(views.Storages.Sum(s => s.NumBytes), total);
        foreach (var group in views.Tensors.GroupBy(t => t.Storage))
            Assert.Single(shards, s => s.Any(e => ReferenceEquals(e.Value.Storage, group.Key)));
    }

    [Fact]
    public void A_sharded_save_writes_the_hub_index_and_shards_that_load_back_identical()
    {
        string dir = Directory.CreateTempSubdirectory("ts-shards-").FullName;
        try
        {
            var source = CheckpointReader.Load(Fixtures.Torch("state_dict.pt"));
            var options = new SaveOptions { Layout = SaveLayout.SafeTensors, MaxShardSize = 200 };
            var written = CheckpointWriter.SaveFile(source.Root, Path.Combine(dir, "model.safetensors"), options);
            Assert.Equal(new[] { "model.safetensors.index.json", "model-00001-of-00003.safetensors",
                "model-00002-of-00003.safetensors",
                "model-00003-of-00003.safetensors" }, written.Select(Path.GetFileName));
            Toolbox.SaveVerifier.Verify(source.Root, null, written[0]);
            string index = File.ReadAllText(written[0]);
            Assert.StartsWith("{\n  \"metadata\": {\n    \"total_size\": 372\n  },\n  \"weight_map\": {\n    " +
                "\"conv.weight\": \"model-00001-of-00003.safetensors\",", index);
            Assert.EndsWith("\"fc.bias\": \"model-00003-of-00003.safetensors\"\n  }\n}", index);
            using var back = CheckpointReader.Open(written[0]);
            Assert.Equal(source.Tensors.Select(t => t.Name), back.Tensors.Select(t => t.Name));
            for (int i = 0; i < source.Tensors.Count; i++) Assert.Equal(source.Tensors[i].GetBytes(),
                back.Tensors[i].GetBytes());

            // An existing set is not replaced without the caller's say-so; with it, stale shards go.
            var ex = Assert.Throws<TorchSerialException>(() => CheckpointWriter.SaveFile(source.Root, Path.Combine(dir,
                "model.safetensors"), options));
            Assert.Equal(ErrorIds.ShardSetExists, ex.ErrorId);
            back.Dispose();
            CheckpointWriter.SaveFile(source.Root, Path.Combine(dir, "model.safetensors"),
                options with { MaxShardSize = 300, ReplaceSet = true });
            Assert.Equal(new[] { "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors",
                "model.safetensors.index.json" },
                Directory.GetFiles(dir).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void Index_strings_are_escaped_as_pythons_json_escapes_them()
    {
        var index = ShardIndex.Create(new List<KeyValuePair<string, object?>> { new("total_size", 3L) },
            new List<KeyValuePair<string, string>> { new("caf\u00e9.\"w\"", "m.bin") });
        Assert.Equal("{\n  \"metadata\": {\n    \"total_size\": 3\n  },\n  \"weight_map\": {\n    " +
            "\"caf\\u00e9.\\\"w\\\"\": \"m.bin\"\n  }\n}",
            Encoding.ASCII.GetString(index.ToBytes()));
    }
}
