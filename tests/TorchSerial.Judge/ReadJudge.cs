using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace TorchSerial.Judge;

/// <summary>
/// What LibTorch 2.10's own reader, C++ <c>torch::pickle_load</c> (the torch.load of C++ programs; TorchScript has no
/// aten::load), makes of each file. TorchSharp does not bind it, so it is called through the symbol libtorch_cpu.so
/// exports, with the x86-64 System V ABI: the IValue it returns by value comes back through a hidden first pointer,
/// the argument is a const std::vector&lt;char&gt;&amp; ({begin, end, capacity}), and an IValue is {payload, tag}.
/// A tensor root is described like the fixtures (its TensorImpl* moved into a heap at::Tensor, which is what a
/// TorchSharp handle points to). A dict root cannot be walked without LibTorch's headers, so it is saved again with
/// <c>torch::pickle_save</c> to FILE.resaved.pt, which the tests read back. One JSON object per file on stdout.
/// </summary>
internal static class ReadJudge
{
    private const int TensorTag = 1;
    private const int GenericDictTag = 15;

    [DllImport("libtorch_cpu.so", EntryPoint = "_ZN5torch11pickle_loadERKSt6vectorIcSaIcEE")]
    private static extern IntPtr PickleLoad(IntPtr result, IntPtr bytes);

    [DllImport("libtorch_cpu.so", EntryPoint = "_ZN5torch11pickle_saveERKN3c106IValueE")]
    private static extern IntPtr PickleSave(IntPtr result, IntPtr value);

    /// <summary>operator new, so TorchSharp's dispose (delete) frees what is allocated here.</summary>
    [DllImport("libstdc++.so.6", EntryPoint = "_Znwm")]
    private static extern IntPtr OperatorNew(nuint size);

    public static int Run(string[] files)
    {
        _ = torch.zeros(1); // loads LibTorch before the first P/Invoke into it
        var results = new List<Dictionary<string, object>>();
        foreach (var file in files) results.Add(Read(file));
        Console.WriteLine(JsonSerializer.Serialize(results));
        return 0;
    }

    private static unsafe Dictionary<string, object> Read(string file)
    {
        var bytes = File.ReadAllBytes(file);
        var result = new Dictionary<string, object> { ["file"] = file };
        fixed (byte* data = bytes)
        {
            var vector = stackalloc IntPtr[3] { (IntPtr)data, (IntPtr)(data + bytes.Length),
                (IntPtr)(data + bytes.Length) };
            var value = stackalloc long[4];
            PickleLoad((IntPtr)value, (IntPtr)vector);
            int tag = (int)value[1];
            result["tag"] = tag;
            if (tag == TensorTag)
            {
                result["root"] = "tensor";
                result["tensors"] = new[] { DTypes.Describe("", Wrap((IntPtr)value[0])) };
            }
            else if (tag == GenericDictTag)
            {
                result["root"] = "dict";
                var saved = stackalloc IntPtr[3];
                PickleSave((IntPtr)saved, (IntPtr)value);
                var resaved = new byte[(long)saved[1] - (long)saved[0]];
                Marshal.Copy(saved[0], resaved, 0, resaved.Length);
                result["resaved"] = file + ".resaved.pt";
                File.WriteAllBytes(file + ".resaved.pt", resaved);
            }
            else result["root"] = "other";
        }
        return result;
    }

    /// <summary>A TorchSharp tensor owning the TensorImpl reference the IValue held.</summary>
    private static Tensor Wrap(IntPtr tensorImpl)
    {
        var handle = OperatorNew((nuint)IntPtr.Size);
        Marshal.WriteIntPtr(handle, tensorImpl);
        return (Tensor)Activator.CreateInstance(typeof(Tensor), BindingFlags.NonPublic | BindingFlags.Instance, null,
            [handle, true], null)!;
    }
}
