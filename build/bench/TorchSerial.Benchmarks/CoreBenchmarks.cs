using TorchSerial.Python;
using TorchSerial.Reading;
using TorchSerial.Tensors;
using TorchSerial.Writing;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Running;
using TorchSerial;

BenchmarkRunner.Run<CoreBenchmarks>(args: args);

/// <summary>
/// The hot paths: parsing a state_dict's pickle, reading storages into memory, and writing the zip.
/// The checkpoint is GPT-2-small-shaped in structure (148 tensors) but 64 MiB, so a run takes minutes.
/// </summary>
[MemoryDiagnoser]
public class CoreBenchmarks
{
    private string _path = "";
    private object? _root;
    private byte[] _pickleOnly = Array.Empty<byte>();

    [GlobalSetup]
    public void Setup()
    {
        var state = new PyDict { PythonType = "collections.OrderedDict" };
        var random = new Random(1);
        for (int layer = 0; layer < 12; layer++)
            foreach (var (name, n) in new[] { ("ln_1.weight", 768), ("attn.c_attn.weight", 768 * 96), ("attn.c_proj.weight", 768 * 32),
                         ("mlp.c_fc.weight", 768 * 128), ("mlp.c_proj.weight", 768 * 128), ("ln_2.weight", 768) })
            {
                var values = new object[n];
                for (int i = 0; i < n; i++) values[i] = random.NextSingle();
                state.Add($"h.{layer}.{name}", Tensor.FromValues(values, DType.Float32));
            }
        _root = state;
        _path = Path.Combine(Path.GetTempPath(), "torchserial-bench.pt");
        CheckpointWriter.SaveFile(state, _path);
        // The same structure with empty tensors: the pickle dominates, as in data.pkl-only work.
        var empty = new PyDict { PythonType = "collections.OrderedDict" };
        foreach (System.Collections.DictionaryEntry e in state) empty.Add(e.Key, Tensor.FromValues(Array.Empty<object>(), DType.Float32));
        using var ms = new MemoryStream();
        CheckpointWriter.Save(empty, ms);
        _pickleOnly = ms.ToArray();
    }

    [GlobalCleanup]
    public void Cleanup() => File.Delete(_path);

    [Benchmark(Description = "pickle parsing (structure of 72 tensors)")]
    public int ParsePickle() => CheckpointReader.Load(new MemoryStream(_pickleOnly)).Tensors.Count;

    [Benchmark(Description = "lazy open (data.pkl only)")]
    public int LazyOpen()
    {
        using var c = CheckpointReader.Open(_path);
        return c.Tensors.Count;
    }

    [Benchmark(Description = "eager load: storage reads + CRC")]
    public int EagerLoad() => CheckpointReader.Load(_path).Storages.Count;

    [Benchmark(Description = "zip writer to Stream.Null")]
    public void WriteZip() => CheckpointWriter.Save(_root, Stream.Null);
}
