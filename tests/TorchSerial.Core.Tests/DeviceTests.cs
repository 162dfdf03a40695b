using TorchSerial.Containers;
using TorchSerial.Devices;
using TorchSerial.Errors;
using TorchSerial.Reading;
using TorchSerial.Tensors;
using TorchSerial.Torch;
using TorchSerial.Toolbox;
using TorchSerial.Writing;
using Xunit;

namespace TorchSerial.Tests;

/// <summary>map_location in its three forms, ILGPU placement, tag rewriting and custom location handlers,
/// on files real torch saved with cuda:0, cuda:1 and npu:0 tags.</summary>
public class DeviceTests
{
    private static System.Text.Json.JsonElement Located(string file) => Fixtures.Expected.GetProperty("located").GetProperty(file).GetProperty("tensors");

    [Theory]
    [InlineData("cuda0.pt")]
    [InlineData("cuda1.pt")]
    [InlineData("cuda_mixed.pt")]
    [InlineData("cuda_mixed_legacy.pt")]
    public void Cuda_tags_fail_with_torch_s_message_here(string file)
    {
        var ex = Assert.Throws<TorchSerialException>(() => CheckpointReader.Load(Fixtures.Torch(file)));
        Assert.Equal(ErrorIds.DeviceUnavailable, ex.ErrorId);
        Assert.Equal("Attempting to deserialize object on a CUDA device but no CUDA device is available (ILGPU found none). " +
                     "If you are running on a CPU-only machine, use -MapLocation cpu to map your storages to the " +
                         "CPU.", ex.Message);
    }

    [Theory]
    [InlineData("cuda1.pt")]
    [InlineData("cuda_mixed.pt")]
    [InlineData("cuda_mixed_legacy.pt")]
    public void A_lazy_load_needs_no_device_until_its_bytes_are_placed(string file)
    {
        // Saved locations are data: listing, moving to the host and saving file to file work on a CPU machine.
        using var lazy = CheckpointReader.Open(Fixtures.Torch(file));
        var expected = Located(file).EnumerateArray().ToList();
        Assert.Equal(expected.Select(e => e.GetProperty("location").GetString()), lazy.Tensors.Select(t => t.SavedLocation));
        Assert.Equal(lazy.Tensors.Select(t => t.SavedLocation), lazy.Tensors.Select(t => t.Device));
        var ex = Assert.Throws<TorchSerialException>(() => lazy.Tensors[0].GetBytes());
        Assert.Equal(ErrorIds.DeviceUnavailable, ex.ErrorId);
        Assert.Contains($"'{lazy.Tensors[0].Storage.Key}'", ex.Message);

        var onHost = DevicePlacement.Place(lazy.Tensors, "cpu");
        Assert.All(onHost, t => Assert.Equal("cpu", t.Device));
        Assert.Equal(expected.Select(e => e.GetProperty("sha256").GetString()), onHost.Select(t => Fixtures.Sha256(t.GetBytes())));

        using var saved = new MemoryStream();
        CheckpointWriter.Save(lazy.Root, saved, new SaveOptions { Layout = file.Contains("legacy") ? SaveLayout.Legacy : SaveLayout.Zip });
        saved.Position = 0;
        var back = CheckpointReader.Load(saved, new LoadOptions { MapLocation = "cpu" });
        Assert.Equal(lazy.Tensors.Select(t => t.SavedLocation), back.Tensors.Select(t => t.SavedLocation));
        Assert.Equal(expected.Select(e => e.GetProperty("sha256").GetString()), back.Tensors.Select(t => Fixtures.Sha256(t.GetBytes())));
    }

    [Theory]
    [InlineData("cuda0.pt")]
    [InlineData("cuda_mixed.pt")]
    [InlineData("cuda_mixed_legacy.pt")]
    public void A_device_string_sends_every_storage_there(string file)
    {
        var ckpt = CheckpointReader.Load(Fixtures.Torch(file), new LoadOptions { Devices = IlgpuPlatform.Instance, MapLocation = "cpu" });
        ExpectedTensors.AssertMatch(Located(file), ckpt.Tensors);
    }

    [Fact]
    public void A_table_remaps_listed_tags_and_leaves_the_rest()
    {
        var table = MapLocation.Table(new Dictionary<string, string> { ["cuda:0"] = "ilgpu-cpu", ["cuda:1"] = "cpu" });
        var ckpt = CheckpointReader.Load(Fixtures.Torch("cuda_mixed.pt"), new LoadOptions { Devices = IlgpuPlatform.Instance, MapLocation = table });
        foreach (var t in ckpt.Tensors) Assert.Equal(t.SavedLocation == "cuda:0" ? "ilgpu-cpu" : "cpu", t.Device);
        var expected = Located("cuda_mixed.pt").EnumerateArray().Select(e => e.GetProperty("sha256").GetString());
        Assert.Equal(expected, ckpt.Tensors.Select(t => Fixtures.Sha256(t.GetBytes())));

        // Tags not in the table keep the default behaviour, which fails without CUDA, as in torch.
        var partial = MapLocation.Table(new Dictionary<string, string> { ["cuda:0"] = "cpu" });
        Assert.Equal(ErrorIds.DeviceUnavailable,
            Assert.Throws<TorchSerialException>(() => CheckpointReader.Load(Fixtures.Torch("cuda_mixed.pt"), new LoadOptions { Devices = IlgpuPlatform.Instance, MapLocation = partial })).ErrorId);
    }

    [Fact]
    public void A_callback_decides_per_storage_and_null_means_default()
    {
        var seen = new List<string>();
        var callback = MapLocation.Callback((storage, tag) => { seen.Add(tag); return tag == "cuda:1" ? "cpu" : (object?)storage; });
        var ckpt = CheckpointReader.Load(Fixtures.Torch("cuda_mixed.pt"), new LoadOptions { Devices = IlgpuPlatform.Instance, MapLocation = callback });
        Assert.All(ckpt.Tensors, t => Assert.Equal("cpu", t.Device));
        Assert.Equal(ckpt.Storages.Count, seen.Count);

        var none = MapLocation.Callback((_, _) => null);
        Assert.Equal(ErrorIds.DeviceUnavailable,
            Assert.Throws<TorchSerialException>(() => CheckpointReader.Load(Fixtures.Torch("cuda1.pt"), new LoadOptions { Devices = IlgpuPlatform.Instance, MapLocation = none })).ErrorId);
    }

    [Fact]
    public void Storages_placed_on_the_ilgpu_cpu_accelerator_keep_their_bytes()
    {
        var host = CheckpointReader.Load(Fixtures.Torch("views.pt"));
        var placed = CheckpointReader.Load(Fixtures.Torch("views.pt"), new LoadOptions { Devices = IlgpuPlatform.Instance, MapLocation = "ilgpu-cpu" });
        Assert.All(placed.Tensors, t => Assert.Equal("ilgpu-cpu", t.Device));
        Assert.All(placed.Storages, s => Assert.True(s.IsLoaded));
        Assert.Equal(host.Tensors.Select(t => t.GetBytes()), placed.Tensors.Select(t => t.GetBytes()));
        Assert.Equal((float[])host.Tensors[3].ToArray(), (float[])placed.Tensors[3].ToArray()); // a transposed view, gathered from the device copy
        Assert.Same(placed.Tensors[0].Storage, placed.Tensors[1].Storage);
    }

    [Fact]
    public void Placement_round_trips_host_to_device_to_host_with_identical_bytes()
    {
        var host = CheckpointReader.Load(Fixtures.Torch("dtypes.pt")).Tensors;
        var onDevice = DevicePlacement.Place(host, "ilgpu-cpu");
        Assert.All(onDevice, t => Assert.Equal("ilgpu-cpu", t.Device));
        var back = DevicePlacement.Place(onDevice, "cpu");
        Assert.All(back, t => Assert.Equal("cpu", t.Device));
        Assert.Equal(host.Select(t => t.GetBytes()), back.Select(t => t.GetBytes()));
        Assert.Equal(host.Select(t => t.Name), back.Select(t => t.Name));
        Assert.Same(onDevice[0], DevicePlacement.Place(onDevice.Take(1), "ilgpu-cpu")[0]); // already there: not copied
    }

    [Fact]
    public void Placed_tensors_save_with_tags_torch_understands()
    {
        var placed = CheckpointReader.Load(Fixtures.Torch("params.pt"), new LoadOptions { Devices = IlgpuPlatform.Instance, MapLocation = "ilgpu-cpu" });
        using var ms = new MemoryStream();
        CheckpointWriter.Save(placed.Root, ms);
        ms.Position = 0;
        var again = CheckpointReader.Load(ms);
        Assert.All(again.Tensors, t => Assert.Equal("cpu", t.SavedLocation)); // torch does not know ILGPU: saved as cpu
        Assert.Equal(placed.Tensors.Select(t => t.GetBytes()), again.Tensors.Select(t => t.GetBytes()));
    }

    [Theory]
    [InlineData("cuda_mixed.pt")]
    [InlineData("cuda_mixed_legacy.pt")]
    public void Rewriting_tags_streams_the_file_and_keeps_its_layout(string file)
    {
        var dest = Path.Combine(Path.GetTempPath(), $"retag-{Guid.NewGuid():N}.pt");
        var plan = CheckpointRetagger.Plan(Fixtures.Torch(file), MapLocation.Table(new Dictionary<string, string> { ["cuda:1"] = "cuda:0" }));
        Assert.All(plan, c => Assert.Equal(("cuda:1", "cuda:0"), (c.From, c.To)));
        var changes = CheckpointRetagger.Rewrite(Fixtures.Torch(file), dest, "cpu");
        Assert.Equal(CheckpointReader.Open(Fixtures.Torch(file), new LoadOptions { Devices = IlgpuPlatform.Instance, MapLocation = "cpu" }).Storages.Count, changes.Count);
        var rewritten = CheckpointReader.Load(dest);
        Assert.Equal(file.Contains("legacy") ? CheckpointFormat.LegacyStream : CheckpointFormat.Zip, rewritten.Format);
        ExpectedTensors.AssertMatch(Located(file), rewritten.Tensors, "cpu");
        File.Delete(dest);
    }

    [Fact]
    public void A_custom_tag_loads_through_a_registered_deserializer_with_torch_s_priorities()
    {
        Assert.Equal(ErrorIds.UnknownLocation, Assert.Throws<TorchSerialException>(() => CheckpointReader.Load(Fixtures.Torch("npu.pt"))).ErrorId);
        var registry = new LocationRegistry();
        registry.Register("npu", 30, s => s.Device == "cpu" && s.Key == "npu-demo" ? "npu:0" : null, (s, tag) => tag.StartsWith("npu", StringComparison.Ordinal) ? "cpu" : null);
        var ckpt = CheckpointReader.Load(Fixtures.Torch("npu.pt"), new LoadOptions { Registry = registry });
        ExpectedTensors.AssertMatch(Located("npu.pt"), ckpt.Tensors);

        // A second entry at a priority already in use goes last, as torch's does; a lower number goes first.
        var late = registry.Register("late", 30, null, (_, _) => "cpu");
        var early = registry.Register("early", 5, s => "npu:7", null);
        Assert.True(late.CollidedLate);
        Assert.Equal("early", registry.Handlers[0].Name);
        Assert.Equal("late", registry.Handlers[^1].Name);
        using var ms = new MemoryStream();
        CheckpointWriter.Save(ckpt.Root, ms, new SaveOptions { Registry = registry });
        ms.Position = 0;
        Assert.All(CheckpointReader.Load(ms, new LoadOptions { Registry = registry }).Tensors, t => Assert.Equal("npu:7", t.SavedLocation));
        Assert.True(registry.Unregister("early"));
        Assert.Throws<InvalidOperationException>(() => LocationRegistry.BuiltIn.Register("x", 1, null, null));
    }

    [Fact]
    public void Devices_are_listed_with_the_cpu_accelerator_and_no_silent_gpu()
    {
        var list = Devices.Accelerators.List();
        Assert.Equal(new[] { "cpu", "ilgpu-cpu" }, list.Take(2).Select(d => d.Name));
        Assert.True(list.Single(d => d.Name == "ilgpu-cpu").IsAvailable);
        Assert.All(list.Where(d => d.Kind == DeviceType.Cuda), d => Assert.Equal(d.IsAvailable, d.Name.StartsWith("cuda:", StringComparison.Ordinal)));
        Assert.Equal(ErrorIds.DeviceUnavailable, Assert.Throws<TorchSerialException>(() => Devices.Accelerators.Get("cuda:0")).ErrorId);
    }
}
