using TorchSerial.Containers;
using TorchSerial.Errors;
using TorchSerial.Python;
using TorchSerial.Reading;
using System.Diagnostics;
using Xunit;

namespace TorchSerial.Tests;

/// <summary>
/// A deterministic mutation fuzzer over the real fixtures: byte flips, truncations, length-field edits and
/// pickle opcode splices (inside data.pkl, re-wrapped in a valid zip so the pickle machine is reached).
/// Every case must end in a clean load or a TorchSerialException, within 2 s, with managed memory bounded.
/// The seed is fixed; the counts go to fuzz-summary.txt, which build.ps1 prints.
/// </summary>
public class Fuzzer
{
    private const int Seed = 20261129;
    private const int CasesPerStrategy = 2500;
    private static readonly string[] Inputs =
    {
        "torch/checkpoint.pt", "torch/legacy_checkpoint.pt", "torch/views_proto4.pt", "torch/quantized.pt",
        "crafted/tar_legacy.pt", "crafted/v3_dtypes.pt", "crafted/deflated.pt",
        "formats/st_dtypes.safetensors", "formats/ts_traced.pt",
        // Bare pickles of protocols 0 and 1, and the tensor kinds (sparse, meta, packed, the pre-0.4 form).
        "crafted/bare_p0_dict.pt", "crafted/bare_p1_system.pt", "kinds/sparse.pt", "kinds/meta.pt",
        "kinds/packed.pt", "kinds/pre04.pt", "kinds/legacy_model.pt",
    };

    // Lengths that break arithmetic: zero, negative, just past int32 and uint32, huge.
    private static readonly long[] NastyLengths = { 0, 1, -1, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0x1_0000_0000,
        long.MaxValue, long.MinValue };

    // Opcodes with well-formed arguments, spliced into real pickles.
    private static readonly byte[][] Splices =
    {
        new byte[] { (byte)'(' }, new byte[] { (byte)'0' }, new byte[] { (byte)'1' }, new byte[] { (byte)'2' },
            new byte[] { (byte)'a' },
        new byte[] { (byte)'b' }, new byte[] { (byte)'e' }, new byte[] { (byte)'s' }, new byte[] { (byte)'u' },
            new byte[] { (byte)'t' },
        new byte[] { (byte)'R' }, new byte[] { 0x81 }, new byte[] { (byte)'Q' }, new byte[] { 0x85 },
            new byte[] { 0x87 }, new byte[] { (byte)'N' },
        new byte[] { (byte)'h', 0 }, new byte[] { (byte)'h', 250 }, new byte[] { (byte)'q', 3 }, new byte[] { 0x94 },
            new byte[] { 0x93 },
        new byte[] { (byte)'K', 7 }, new byte[] { 0x8A, 9, 1, 2, 3, 4, 5, 6, 7, 8, 0x80 }, new byte[] { (byte)'X',
            0xFF, 0xFF, 0xFF, 0x7F },
        "ctorch\nfloat32\n"u8.ToArray(), "cos\nsystem\n"u8.ToArray(), "ctorch._utils\n_rebuild_tensor_v2\n"u8.ToArray(),
        "ccollections\nOrderedDict\n"u8.ToArray(), new byte[] { (byte)'.' }, new byte[] { 0xFF },
    };

    [Fact]
    public void Two_thousand_cases_and_more_fail_cleanly()
    {
        var random = new Random(Seed);
        var outcomes = new SortedDictionary<string, int>(StringComparer.Ordinal);
        int cases = 0;
        double slowest = 0;
        long peakManaged = 0;
        var strategies = new (string Name, Func<byte[], Random, byte[]> Mutate)[]
        {
            ("byte flips", FlipBytes), ("truncations", Truncate), ("length edits", EditLength), ("opcode splices",
                SpliceOpcode),
            ("safetensors header edits", EditSafeTensorsHeader),
        };
        foreach (var (name, mutate) in strategies)
        {
            for (int i = 0; i < CasesPerStrategy; i++)
            {
                var file = Inputs[random.Next(Inputs.Length)];
                var bytes = mutate(File.ReadAllBytes(Path.Combine(Fixtures.Dir, file)), random);
                var sw = Stopwatch.StartNew();
                var ex = Record.Exception(() =>
                {
                    var ckpt = CheckpointReader.Load(new MemoryStream(bytes));
                    foreach (var t in ckpt.Tensors) t.ToArray();
                    _ = Python.PyRepr.Of(ckpt.Root);
                });
                sw.Stop();
                cases++;
                slowest = Math.Max(slowest, sw.Elapsed.TotalSeconds);
                peakManaged = Math.Max(peakManaged, GC.GetTotalMemory(false));
                Assert.True(ex is null or TorchSerialException,
                    $"{name} of {file}, case {i}: {ex?.GetType().Name}: {ex?.Message}\n{ex?.StackTrace}");
                Assert.True(sw.Elapsed.TotalSeconds < 2,
                    $"{name} of {file}, case {i} took {sw.Elapsed.TotalSeconds:N2} s");
                // Live memory after the case: garbage not collected yet (this case's, or a test running beside the
                // fuzzer) is not held, so a high cheap reading is confirmed after a full collection.
                long held = GC.GetTotalMemory(false);
                if (held >= 1L << 30) held = GC.GetTotalMemory(forceFullCollection: true);
                Assert.True(held < 1L << 30, $"{name} of {file}, case {i}: managed memory {held >> 20} MiB");
                string outcome = ex is TorchSerialException t ? t.ErrorId : "loaded";
                outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;
            }
        }
        var summary = $"fuzz: {cases} cases (seed {Seed}), slowest {slowest * 1000:N0} ms, peak managed memory " +
            $"{peakManaged >> 20} MiB\n" +
                      string.Join("\n", outcomes.Select(o => $"  {o.Key,-26} {o.Value,6}"));
        var dir = Environment.GetEnvironmentVariable("TORCHSERIAL_RESULTS") ?? AppContext.BaseDirectory;
        File.WriteAllText(Path.Combine(dir, "fuzz-summary.txt"), summary + "\n");
        Assert.True(cases >= 2000);
        Assert.True(outcomes.Count > 8, "the mutations should reach many different failure paths:\n" + summary);
    }

    private static byte[] FlipBytes(byte[] b, Random r)
    {
        int flips = 1 + r.Next(4);
        for (int i = 0; i < flips; i++) b[r.Next(b.Length)] = (byte)r.Next(256);
        return b;
    }

    private static byte[] Truncate(byte[] b, Random r) => b[..r.Next(b.Length)];

    private static byte[] EditLength(byte[] b, Random r)
    {
        long v = NastyLengths[r.Next(NastyLengths.Length)];
        int width = r.Next(2) == 0 ? 4 : 8;
        int at = r.Next(Math.Max(1, b.Length - width));
        for (int i = 0; i < width && at + i < b.Length; i++) b[at + i] = (byte)(v >> (8 * i));
        return b;
    }

    // JSON pieces a hostile safetensors header is made of: huge and negative numbers, deep nesting, stray quotes and
    // NULs, duplicate and metadata keys, offsets past the end, sub-byte dtypes.
    private static readonly string[] HeaderSplices =
    {
        "18446744073709551615", "-1", "1e300", "0.5", new string('[', 200), new string('{', 200), "\"", "\\u0000", ",",
            "]", "}",
        "\"__metadata__\":{\"a\":1},", "\"a\":{\"dtype\":\"F4\",\"shape\":[3],\"data_offsets\":[0,1]},",
        "\"bool\":{\"dtype\":\"BOOL\",\"shape\":[6],\"data_offsets\":[0,6]},", "\"dtype\":\"F6_E3M2\",",
            "[4294967296,4294967296]",
        "\"data_offsets\":[0,9223372036854775807]", "null", "true", "\"\\ud800\"",
    };

    private static byte[]? _safeTensors;

    /// <summary>Splices a hostile JSON piece into the header of a real safetensors file, fixing its length field half
    /// the time.</summary>
    private static byte[] EditSafeTensorsHeader(byte[] _, Random r)
    {
        var b = _safeTensors ??= File.ReadAllBytes(Path.Combine(Fixtures.Dir, "formats/st_dtypes.safetensors"));
        int n = (int)BitConverter.ToUInt64(b, 0);
        var json = b.AsSpan(8, n).ToArray().ToList();
        var splice = System.Text.Encoding.UTF8.GetBytes(HeaderSplices[r.Next(HeaderSplices.Length)]);
        int at = 1 + r.Next(Math.Max(1, json.Count - 2));
        if (r.Next(2) == 0) json.InsertRange(at, splice);
        else { json.RemoveRange(at, Math.Min(splice.Length, json.Count - at)); json.InsertRange(at, splice); }
        var output = new byte[8 + json.Count + (b.Length - 8 - n)];
        BitConverter.GetBytes((ulong)(r.Next(2) == 0 ? json.Count : n)).CopyTo(output, 0);
        json.CopyTo(output, 8);
        b.AsSpan(8 + n).CopyTo(output.AsSpan(8 + json.Count));
        return output;
    }

    /// <summary>Inserts or overwrites an opcode inside data.pkl and re-wraps the zip, so the damage reaches the pickle
    /// machine.</summary>
    private static byte[] SpliceOpcode(byte[] b, Random r)
    {
        if (b.Length < 4 || b[0] != 'P' || b[1] != 'K') return FlipBytes(b, r);
        using var src = new MemoryStream(b);
        var dir = ZipDirectory.Read(src);
        var records = dir.Entries.Select(e => (e.Name, Data: dir.ReadAll(e))).ToList();
        int p = records.FindIndex(x => x.Name.EndsWith("/data.pkl", StringComparison.Ordinal));
        var pkl = records[p].Data.ToList();
        var splice = Splices[r.Next(Splices.Length)];
        int at = 2 + r.Next(Math.Max(1, pkl.Count - 3));
        if (r.Next(2) == 0) pkl.InsertRange(at, splice);
        else { pkl.RemoveRange(at, Math.Min(splice.Length, pkl.Count - at)); pkl.InsertRange(at, splice); }
        records[p] = (records[p].Name, pkl.ToArray());
        string root = records[0].Name[..records[0].Name.IndexOf('/')];
        using var dst = new MemoryStream();
        var zip = new ZipRecordWriter(dst, root);
        foreach (var (name, data) in records) zip.Write(name[(root.Length + 1)..], data);
        zip.Finish();
        return dst.ToArray();
    }
}
