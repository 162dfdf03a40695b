using TorchSerial.Errors;
using TorchSerial.Python;
using TorchSerial.Tensors;
using System.Text.RegularExpressions;

namespace TorchSerial.Torch;

/// <summary>The policy's answer for one global.</summary>
public enum GlobalVerdict
{
    /// <summary>On the default allow-list (torch ≥ 2.6 <c>weights_only=True</c>).</summary>
    Allowed,
    /// <summary>Admitted by the user's <c>-AllowGlobal</c> patterns; loads as an inert object if not
    /// modelled.</summary>
    AllowedByUser,
    /// <summary>Refused: loading stops with <see cref="ErrorIds.UnsafeGlobal"/>.</summary>
    Refused,
}

/// <summary>
/// Which globals a pickle may reference, like torch's weights-only unpickler. Globals are checked,
/// not opcodes: any protocol loads, and a refused global stops the load before anything uses it.
/// Even admitted globals are never executed; unmodelled ones become inert <see cref="Python.PyObject"/>s.
/// </summary>
public sealed class GlobalPolicy
{
    private readonly Regex[] _userPatterns;

    public GlobalPolicy(IEnumerable<string>? userPatterns = null)
    {
        UserPatterns = (userPatterns ?? Array.Empty<string>()).Where(p => !string.IsNullOrWhiteSpace(p)).ToArray();
        _userPatterns = UserPatterns.Select(ToRegex).ToArray();
    }

    /// <summary>
    /// Classes a container pickles as plain data by design (a distributed checkpoint's metadata dataclasses,
    /// DeepSpeed's enums): admitted as inert objects, with the member lookups of their enums, while reading that
    /// container only.
    /// </summary>
    public IReadOnlySet<string> DataClasses { get; private init; } = new HashSet<string>();

    /// <summary>The same policy, admitting <paramref name="classes"/> as inert data as well.</summary>
    internal GlobalPolicy WithDataClasses(IEnumerable<string> classes)
        => new(UserPatterns) { DataClasses = new HashSet<string>(DataClasses.Concat(classes), StringComparer.Ordinal) };

    public static GlobalPolicy Default { get; } = new();

    /// <summary>The user's patterns (<c>module.name</c>, with <c>*</c> and <c>?</c> wildcards).</summary>
    public IReadOnlyList<string> UserPatterns { get; }

    public GlobalVerdict Check(string fullName)
    {
        if (DefaultAllowList.Contains(fullName) || DataClasses.Contains(fullName)) return GlobalVerdict.Allowed;
        foreach (var p in _userPatterns) if (p.IsMatch(fullName)) return GlobalVerdict.AllowedByUser;
        return GlobalVerdict.Refused;
    }

    /// <summary>The default allow-list: what torch ≥ 2.6 accepts with <c>weights_only=True</c> (torch-format.md
    /// §7.2).</summary>
    public static IReadOnlySet<string> DefaultAllowList { get; } = BuildDefault();

    private static HashSet<string> BuildDefault()
    {
        var set = new HashSet<string>(StringComparer.Ordinal)
        {
            "collections.OrderedDict", "collections.Counter", "torch.nn.parameter.Parameter",
            "torch.serialization._get_layout", "torch.Size", "torch.Tensor", "torch.device",
            "_codecs.encode", "builtins.bytearray", "builtins.set", "builtins.complex",
            "torch.storage.TypedStorage", "torch.storage.UntypedStorage",
            "torch.per_tensor_affine", "torch.per_tensor_symmetric", "torch.per_channel_affine",
            "torch.per_channel_symmetric", "torch.per_channel_affine_float_qparams",
            "torch._tensor._rebuild_from_type_v2",
        };
        foreach (var f in new[] { "_rebuild_parameter", "_rebuild_parameter_with_state", "_rebuild_qtensor",
            "_rebuild_tensor",
                     "_rebuild_tensor_v2", "_rebuild_tensor_v3", "_rebuild_sparse_tensor",
                         "_rebuild_meta_tensor_no_storage",
                     "_rebuild_nested_tensor", "_rebuild_wrapper_subclass", "_rebuild_device_tensor_from_numpy",
                     "_rebuild_device_tensor_from_cpu_tensor", "_rebuild_xla_tensor" })
            set.Add("torch._utils." + f);
        foreach (var d in DType.All) set.Add("torch." + d.Name);
        for (int i = 1; i <= 7; i++) { set.Add($"torch.uint{i}"); set.Add($"torch.int{i}"); }
        foreach (var storageClass in DType.StorageClassNames)
        {
            set.Add("torch." + storageClass);
            set.Add("torch.cuda." + storageClass);
        }
        // torch.jit._pickle's markers return the value they wrap: TorchScript's and LibTorch's C++ writers wrap a
        // typed dict or list root in them (restore_type_tag(obj, 'Dict[str, Tensor]')), so such files load as data.
        foreach (var marker in TorchGlobals.JitPickleMarkers) set.Add(marker);
        foreach (var d in DType.All.Where(d => d.StorageClass is not null))
        {
            var tensorClass = d.StorageClass!.Replace("Storage", "Tensor", StringComparison.Ordinal);
            set.Add("torch." + tensorClass);
            set.Add("torch.cuda." + tensorClass);
        }
        foreach (var layout in new[] { "torch.sparse_coo", "torch.sparse_csr", "torch.sparse_csc", "torch.sparse_bsr",
            "torch.sparse_bsc", "torch.strided" })
            set.Add(layout);
        return set;
    }

    private static Regex ToRegex(string pattern)
        => new("^" + Regex.Escape(pattern).Replace(@"\*", ".*").Replace(@"\?", ".") + "$",
            RegexOptions.CultureInvariant | RegexOptions.Compiled);
}
