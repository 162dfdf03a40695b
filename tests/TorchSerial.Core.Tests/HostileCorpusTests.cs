using TorchSerial.Containers;
using TorchSerial.Errors;
using TorchSerial.Pickle;
using TorchSerial.Python;
using TorchSerial.Reading;
using TorchSerial.Scanning;
using TorchSerial.Torch;
using Xunit;

namespace TorchSerial.Tests;

/// <summary>The hostile corpus (tests/fixtures/craft.py): each file's ErrorId, and the scan agrees with the
/// load.</summary>
public class HostileCorpusTests
{
    public static IEnumerable<object?[]> Corpus() => Fixtures.CraftedExpected.GetProperty("hostile").EnumerateObject()
        .Select(p => new object?[] { p.Name, p.Value.ValueKind == System.Text.Json.JsonValueKind.Null ? null : p.Value.GetString() });

    [Theory]
    [MemberData(nameof(Corpus))]
    public void Each_attack_ends_in_its_error_id(string file, string? errorId)
    {
        var ex = Record.Exception(() => CheckpointReader.Load(Fixtures.Crafted(file)));
        if (errorId is null) Assert.Null(ex);
        else Assert.Equal(errorId, Assert.IsType<TorchSerialException>(ex).ErrorId);
    }

    public static IEnumerable<object[]> EveryFixture() => new[] { "crafted", "torch" }
        .SelectMany(d => Directory.GetFiles(Path.Combine(Fixtures.Dir, d), "*.pt"))
        .Select(f => new object[] { Path.GetRelativePath(Fixtures.Dir, f) });

    [Theory]
    [MemberData(nameof(EveryFixture))]
    public void The_scan_predicts_exactly_what_a_load_does(string file)
    {
        var path = Path.Combine(Fixtures.Dir, file);
        var load = Record.Exception(() => CheckpointReader.Load(path)) as TorchSerialException;
        var report = CheckpointScanner.Scan(path);
        if (load?.ErrorId == ErrorIds.DeviceUnavailable)
        {
            // The one deliberate difference: a scan needs no device, so a GPU-saved file is judged by its contents.
            Assert.Equal(ScanStatus.Ok, report.Outcome);
            Assert.Contains(report.Locations, l => l.StartsWith("cuda", StringComparison.Ordinal));
            return;
        }
        Assert.Equal(load?.ErrorId, report.ErrorId);
        Assert.Equal(load is null, report.IsLoadable);
    }

    [Fact]
    public void The_scan_lists_every_dangerous_global_with_its_reason_and_opcodes()
    {
        var build = CheckpointScanner.Scan(Fixtures.Crafted("build_setstate.pt"));
        Assert.Equal(ScanStatus.Unsafe, build.Outcome);
        var g = Assert.Single(build.UnsafeGlobals);
        Assert.Equal(("os.system", "executes a shell command"), (g.FullName, g.Reason));
        Assert.Contains(build.Globals, x => x.FullName == "collections.OrderedDict" && x.Decision == GlobalVerdict.Allowed && x.Opcodes.Contains("REDUCE"));

        var eval = Assert.Single(CheckpointScanner.Scan(Fixtures.Crafted("builtins_eval.pt")).UnsafeGlobals);
        Assert.Equal(("builtins.eval", "evaluates Python code"), (eval.FullName, eval.Reason));
        Assert.Equal(new[] { "REDUCE" }, eval.Opcodes);
        Assert.Equal(new[] { "NEWOBJ" }, Assert.Single(CheckpointScanner.Scan(Fixtures.Crafted("subprocess_newobj.pt")).UnsafeGlobals).Opcodes);
        Assert.Equal(new[] { "INST" }, Assert.Single(CheckpointScanner.Scan(Fixtures.Crafted("inst_exec.pt")).UnsafeGlobals).Opcodes);
    }

    [Fact]
    public void A_crc_mismatch_is_refused_unless_crc_checks_are_turned_off()
    {
        var report = CheckpointScanner.Scan(Fixtures.Crafted("crc_mismatch.pt"));
        Assert.Equal((ScanStatus.Invalid, ErrorIds.CrcMismatch), (report.Outcome, report.ErrorId));
        var lenient = new LoadOptions { VerifyCrc = false };
        Assert.Equal(ScanStatus.Ok, CheckpointScanner.Scan(Fixtures.Crafted("crc_mismatch.pt"), lenient).Outcome);
        var damaged = CheckpointReader.Load(Fixtures.Crafted("crc_mismatch.pt"), lenient).Tensors[0].GetBytes();
        var original = CheckpointReader.Load(Fixtures.Torch("views.pt")).Tensors[0].GetBytes();
        Assert.NotEqual(original, damaged); // exactly what torch.load would return silently
    }

    [Fact]
    public void Unreferenced_storage_records_are_a_warning()
    {
        var dir = Directory.CreateTempSubdirectory();
        var path = Path.Combine(dir.FullName, "extra.pt");
        using (var src = File.OpenRead(Fixtures.Torch("params.pt")))
        using (var dst = File.Create(path))
        {
            var zip = ZipDirectory.Read(src);
            var writer = new ZipRecordWriter(dst, "extra");
            foreach (var e in zip.Entries) writer.Write(e.Name[(e.Name.IndexOf('/') + 1)..], zip.ReadAll(e));
            writer.Write("data/99", new byte[] { 1, 2, 3, 4 });
            writer.Finish();
        }
        var report = CheckpointScanner.Scan(path);
        Assert.Equal(ScanStatus.Warning, report.Outcome);
        Assert.Equal(("UnreferencedRecord", "data/99"), (Assert.Single(report.Problems).ErrorId, report.Problems[0].Record));
        dir.Delete(true);
    }

    [Fact]
    public void The_scan_reads_no_tensor_data()
    {
        var report = CheckpointScanner.Scan(Fixtures.Torch("views.pt"), new LoadOptions { VerifyCrc = false });
        Assert.Equal(15, report.TensorCount);
        Assert.Equal(7, report.StorageCount);
        Assert.Equal(ScanStatus.Ok, report.Outcome);
        // The structure pass leaves every storage unread.
        using var s = File.OpenRead(Fixtures.Torch("views.pt"));
        var (graph, _) = CheckpointReader.LoadStructure(s, new LoadOptions());
        Assert.All(graph.Storages, st => Assert.False(st.IsLoaded));
    }

    [Fact]
    public void Deep_nesting_loads_walks_and_displays()
    {
        var root = CheckpointReader.Load(Fixtures.Crafted("deep_nesting.pt")).Root;
        var text = PyRepr.Of(root);
        Assert.StartsWith("[[[[[[", text);
        Assert.True(text.Length < 400);
        Assert.NotNull(root!.ToString());
    }

    [Fact]
    public void Deeply_nested_tuple_keys_are_refused_not_recursed()
    {
        // d = {((((…)),),): 1} 100 levels deep, built from opcodes: the key hash must not recurse without bound.
        var bytes = new List<byte> { 0x80, 2, (byte)'}', (byte)'N' };
        for (int i = 0; i < 100; i++) bytes.Add(0x85);
        bytes.AddRange(new byte[] { (byte)'K', 1, (byte)'s', (byte)'.' });
        var ex = Assert.Throws<TorchSerialException>(() => PickleMachineTests.Unpickle(bytes.ToArray()));
        Assert.Equal(ErrorIds.PickleTooDeep, ex.ErrorId);
    }

    [Fact]
    public void A_pickle_bomb_is_stopped_by_the_value_cap()
    {
        // ']' then 'h\0' (GET of memo 0) pushed a million times: cheap bytes, many values.
        var bytes = new List<byte> { 0x80, 2, (byte)']', (byte)'q', 0, (byte)'(' };
        for (int i = 0; i < 1_000_000; i++) { bytes.Add((byte)'h'); bytes.Add(0); }
        bytes.AddRange(new[] { (byte)'e', (byte)'.' });
        using var ms = new MemoryStream(bytes.ToArray());
        var input = new Pickle.PickleInput(ms, ms.Length, "bomb");
        var vm = new Pickle.Unpickler(input, TorchGlobals.Hooks(GlobalPolicy.Default, _ => null), StringEncoding.Utf8, maxValues: 100_000);
        Assert.Equal(ErrorIds.PickleTooLarge, Assert.Throws<TorchSerialException>(() => vm.Load()).ErrorId);
    }

    [Fact]
    public void Sets_and_dicts_of_colliding_numbers_stay_linear()
    {
        // 200,000 distinct integers above 2^64 that all round to the same double.
        var bytes = new List<byte> { 0x80, 2, 0x8F, (byte)'(' };
        for (int i = 0; i < 200_000; i++)
        {
            bytes.Add(0x8A); bytes.Add(9);
            bytes.AddRange(BitConverter.GetBytes((long)i)); bytes.Add(1);
        }
        bytes.AddRange(new byte[] { 0x90, (byte)'.' });
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var set = Assert.IsType<PySet>(PickleMachineTests.Unpickle(bytes.ToArray()));
        Assert.Equal(200_000, set.Count);
        Assert.True(sw.Elapsed.TotalSeconds < 5, $"took {sw.Elapsed.TotalSeconds:N1} s");
    }
}

/// <summary>The pickle's memory budget: counted in estimated bytes as values are created, with a limit to
/// raise.</summary>
public class PickleBudgetTests
{
    [Fact]
    public void A_budget_smaller_than_the_pickle_stops_it_and_the_default_fits_real_checkpoints()
    {
        var path = Fixtures.Torch("checkpoint.pt");
        Assert.NotNull(CheckpointReader.Load(path).Root);
        var ex = Assert.Throws<TorchSerialException>(() =>
            CheckpointReader.Load(path, new LoadOptions { MaxPickleBytes = 2_000 }));
        Assert.Equal(ErrorIds.PickleTooLarge, ex.ErrorId);
        Assert.Contains("-PickleMemoryLimit", ex.Message);
    }

    [Fact]
    public void Shared_values_count_once_so_a_memo_heavy_pickle_is_not_mistaken_for_a_bomb()
    {
        // One 100 KB string referenced 10,000 times (BINGET): about 1 GB if each reference counted the string.
        var s = new byte[] { 0x80, 0x02, (byte)'X' }.Concat(BitConverter.GetBytes(100_000)).Concat(new byte[100_000].Select(_ => (byte)'a'))
            .Concat(new byte[] { (byte)'q', 0, (byte)'0', (byte)'(' }).ToList(); // BINPUT 0, POP, MARK
        for (int i = 0; i < 10_000; i++) s.AddRange(new byte[] { (byte)'h', 0 });
        s.AddRange(new byte[] { (byte)'l', (byte)'.' });
        var list = Assert.IsType<Python.PyList>(PickleMachineTests.Unpickle(s.ToArray()));
        Assert.Equal(10_000, list.Count);
        Assert.Same(list[0], list[9_999]);
    }
}

/// <summary>Bare pickles of every protocol are recognised as pickles, and their globals named.</summary>
public class BarePickleTests
{
    [Theory]
    [InlineData("bare_p0_system.pt")]
    [InlineData("bare_p1_system.pt")]
    public void A_bare_pickle_of_protocol_0_or_1_is_scanned_and_its_global_named(string file)
    {
        var report = CheckpointScanner.Scan(Fixtures.Crafted(file));
        Assert.Equal(ScanStatus.Unsafe, report.Outcome);
        var g = Assert.Single(report.UnsafeGlobals);
        Assert.Equal("os.system", g.FullName);
        Assert.Contains("REDUCE", g.Opcodes);
    }

    [Theory]
    [InlineData("bare_p0_dict.pt", true)]
    [InlineData("server_error.pt", false)]
    [InlineData("html_page.pt", false)]
    [InlineData("lfs_pointer.pt", false)]
    public void Text_and_pickles_are_told_apart_from_their_first_bytes(string file, bool pickle)
    {
        var bytes = File.ReadAllBytes(Fixtures.Crafted(file));
        Assert.Equal(pickle, BarePickle.Recognise(bytes.AsSpan(0, Math.Min(512, bytes.Length))));
    }
}
