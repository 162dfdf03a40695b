using TorchSerial.Torch;
using Xunit;

namespace TorchSerial.Tests;

/// <summary>Every global graded with a severity and a specific reason, by the name it really is.</summary>
public class GlobalThreatTests
{
    [Theory]
    [InlineData("os.system", "Dangerous", "os.system", "executes a shell command")]
    [InlineData("posix.system", "Dangerous", "os.system", "executes a shell command (it is os.system)")]
    [InlineData("nt.system", "Dangerous", "os.system", "executes a shell command (it is os.system)")]
    [InlineData("pydoc.locate", "Dangerous", "pydoc.locate", "imports any module and reaches any attribute")]
    [InlineData("_signal.raise_signal", "Dangerous", "signal.raise_signal", "sends signals to processes (it is " +
        "signal.raise_signal)")]
    [InlineData("pty.spawn", "Dangerous", "pty.spawn", "starts a program in a terminal")]
    [InlineData("asyncio.unix_events._UnixSubprocessTransport", "Dangerous",
        "asyncio.unix_events._UnixSubprocessTransport", "start processes")]
    [InlineData("marshal.loads", "Dangerous", "marshal.loads", "loads code objects")]
    [InlineData("_pickle.loads", "Dangerous", "pickle.loads", "nested unpickler")]
    [InlineData("pathlib.os.system", "Dangerous", "os.system", "executes a shell command (it is os.system)")]
    [InlineData("torch.serialization.os.system", "Dangerous", "os.system", "executes a shell command (it is " +
        "os.system)")]
    [InlineData("builtins.eval.__call__", "Dangerous", "builtins.eval", "evaluates Python code (it is builtins.eval)")]
    [InlineData("torch.serialization.load", "Dangerous", "torch.serialization.load", "loads another checkpoint")]
    [InlineData("torch.storage._load_from_bytes", "Dangerous", "torch.storage._load_from_bytes", "unpickles bytes")]
    [InlineData("_io.FileIO", "Dangerous", "io.FileIO", "opens files")]
    [InlineData("functools.partial", "Suspicious", "functools.partial", "building block")]
    [InlineData("builtins.len", "Suspicious", "builtins.len", "harmless alone")]
    [InlineData("mymodel.Net", "Unknown", "mymodel.Net", "not on the allow-list")]
    public void Globals_get_a_severity_and_a_reason_for_what_they_really_are(string name, string severity,
        string resolved, string reason)
    {
        var t = GlobalThreats.Classify(name);
        Assert.Equal(severity, t.Severity.ToString());
        Assert.Equal(resolved, t.ResolvedName);
        Assert.Contains(reason, t.Reason);
    }

    [Fact]
    public void Allow_listed_globals_are_safe_and_admitted_dangerous_ones_stay_dangerous()
    {
        Assert.Equal(GlobalSeverity.Safe, GlobalThreats.Classify("torch._utils._rebuild_tensor_v2",
            allowed: true).Severity);
        Assert.Equal(GlobalSeverity.Safe, GlobalThreats.Classify("torch.serialization._get_layout",
            allowed: true).Severity);
        Assert.Equal(GlobalSeverity.Dangerous, GlobalThreats.Classify("os.system").Severity);
        var report = Scanning.CheckpointScanner.Scan(Fixtures.Crafted("os_system.pt"),
            new Reading.LoadOptions { Policy = new GlobalPolicy(new[] { "os.system" }) });
        var g = Assert.Single(report.Globals, x => x.FullName == "os.system");
        Assert.Equal(("AllowedByUser", "Dangerous", "process execution"), (g.Verdict, g.Severity, g.Family));
    }
}

/// <summary>A scan keeps listing past inert calls, and refuses what CPython cannot build.</summary>
public class InventoryTests
{
    [Fact]
    public void A_call_on_an_inert_object_does_not_stop_the_listing()
    {
        var report = Scanning.CheckpointScanner.Scan(Fixtures.Crafted("getattr_chain.pt"));
        Assert.Equal(new[] { "builtins.getattr", "os.system" }, report.Globals.Select(g => g.FullName).ToArray());
        Assert.All(report.Globals, g => Assert.Equal("Dangerous", g.Severity));
        Assert.DoesNotContain(report.Problems, p => p.ErrorId == Errors.ErrorIds.PickleStructure);
        Assert.Contains("REDUCE", report.Globals[0].Opcodes);
    }

    [Fact]
    public void A_set_inside_itself_is_refused_as_CPython_refuses_it()
    {
        var ex = Assert.Throws<Errors.TorchSerialException>(()
            => Reading.CheckpointReader.Load(Fixtures.Crafted("self_set.pt")));
        Assert.Equal(Errors.ErrorIds.PickleStructure, ex.ErrorId);
        Assert.Contains("unhashable", ex.Message);
    }
}

/// <summary>The pickle's own record is CRC-checked, by the load and therefore by the scan.</summary>
public class PickleRecordCrcTests
{
    [Fact]
    public void A_changed_data_pkl_is_a_crc_mismatch_unless_the_check_is_skipped()
    {
        var path = Fixtures.Crafted("pickle_crc_mismatch.pt");
        var ex = Assert.Throws<Errors.TorchSerialException>(() => Reading.CheckpointReader.Load(path));
        Assert.Equal(Errors.ErrorIds.CrcMismatch, ex.ErrorId);
        Assert.Contains("data.pkl", ex.Message);
        Assert.Equal(Errors.ErrorIds.CrcMismatch, Scanning.CheckpointScanner.Scan(path).ErrorId);
        var root = Assert.IsType<Python.PyDict>(Reading.CheckpointReader.Load(path,
            new Reading.LoadOptions { VerifyCrc = false }).Root);
        Assert.Equal(1L, root["xbc"]);
    }
}

/// <summary>Pickles a load never runs but other code would are found, walked and reported with where they
/// are.</summary>
public class HiddenPickleTests
{
    [Fact]
    public void A_pickle_in_a_record_of_another_name_is_named_with_its_globals()
    {
        var report = Scanning.CheckpointScanner.Scan(Fixtures.Crafted("hidden_record.pt"));
        Assert.Equal(Scanning.ScanStatus.Warning, report.Outcome); // torch.load itself would not run it
        var g = Assert.Single(report.UnsafeGlobals);
        Assert.Equal(("os.system", "config.json", "Dangerous"), (g.FullName, g.Record, g.Severity));
        Assert.Contains(report.Problems, p => p.ErrorId == "HiddenPickle" && p.Record == "config.json");
    }

    [Fact]
    public void A_pickle_passed_to_a_nested_unpickler_is_walked_too()
    {
        var report = Scanning.CheckpointScanner.Scan(Fixtures.Crafted("nested_loads.pt"));
        Assert.Equal(Scanning.ScanStatus.Unsafe, report.Outcome);
        Assert.Equal(new[] { "pickle.loads", "os.system" }, report.UnsafeGlobals.Select(g => g.FullName).ToArray());
        Assert.Equal("data.pkl → pickle.loads argument", report.UnsafeGlobals[1].Record);
        Assert.Contains(report.Problems, p => p.ErrorId == "NestedPickle");
    }

    [Theory]
    [InlineData("little")]
    [InlineData("big")]
    [InlineData("3\n")]
    [InlineData("1")]
    [InlineData("64")]
    [InlineData("10")]
    [InlineData("0120123456789")]
    public void The_small_records_torch_writes_are_not_pickles(string record)
        => Assert.False(Containers.BarePickle.Recognise(System.Text.Encoding.ASCII.GetBytes(record), whole: true));

    [Fact]
    public void Files_this_module_writes_have_no_hidden_pickles()
    {
        using var ckpt = Reading.CheckpointReader.Load(Fixtures.Crafted("v3_dtypes.pt"));
        var path = Path.Combine(Path.GetTempPath(), $"ts-hidden-{Guid.NewGuid():N}.pt");
        try
        {
            Writing.CheckpointWriter.SaveFile(ckpt.Root, path);
            var report = Scanning.CheckpointScanner.Scan(path);
            Assert.Equal(Scanning.ScanStatus.Ok, report.Outcome);
            Assert.Contains("byteorder", report.Records);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void Real_checkpoints_have_no_hidden_pickles()
    {
        foreach (var file in Directory.GetFiles(Path.Combine(Fixtures.Dir, "torch"), "*.pt"))
            Assert.DoesNotContain(Scanning.CheckpointScanner.Scan(file).Problems,
                p => p.ErrorId is "HiddenPickle" or "NestedPickle");
    }
}

/// <summary>Every malicious crafted file: the scan names its dangerous global with a severity and a specific reason,
/// also where an ambiguous archive hides it (the load refuses those files before reading the hidden copy).</summary>
public class MaliciousCorpusTests
{
    [Theory]
    [InlineData("os_system.pt", "os.system", "data.pkl")]
    [InlineData("builtins_eval.pt", "builtins.eval", "data.pkl")]
    [InlineData("subprocess_newobj.pt", "subprocess.Popen", "data.pkl")]
    [InlineData("inst_exec.pt", "builtins.exec", "data.pkl")]
    [InlineData("build_setstate.pt", "os.system", "data.pkl")]
    // torch.load unpickles a bare file as the legacy stream's magic number, so that is the record
    [InlineData("bare_p0_system.pt", "os.system", "magic number")]
    [InlineData("bare_p1_system.pt", "os.system", "magic number")]
    [InlineData("getattr_chain.pt", "os.system", "data.pkl")]
    [InlineData("nested_loads.pt", "os.system", "data.pkl → pickle.loads argument")]
    [InlineData("hidden_record.pt", "os.system", "config.json")]
    [InlineData("zip_duplicate.pt", "os.system", "dup/data.pkl (copy 2)")]
    [InlineData("zip_outside_root.pt", "os.system", "constants.pkl")]
    [InlineData("zip_appended.pt", "os.system", "bytes after the zip's end record")]
    [InlineData("numpy_object.npy", "os.system", "numpy object array")]
    [InlineData("numpy_object.npz", "os.system", "arr_0.npy")]
    [InlineData("tar_hidden.pt", "os.system", "extra.pkl")]
    public void The_dangerous_global_is_named_with_its_severity_reason_and_place(string file, string global,
        string record)
    {
        var report = Scanning.CheckpointScanner.Scan(Fixtures.Crafted(file));
        var g = Assert.Single(report.UnsafeGlobals, x => x.FullName == global && x.Record == record);
        Assert.Equal("Dangerous", g.Severity);
        Assert.DoesNotContain("not on the allow-list", g.Reason);
        Assert.False(report.Outcome == Scanning.ScanStatus.Ok);
    }
}
