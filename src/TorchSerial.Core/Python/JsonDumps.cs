namespace TorchSerial.Python;

/// <summary>
/// Where <c>ToJson()</c> on a dict, list or tuple goes: Python's <c>json.dumps</c>. The writer is the toolbox's
/// (it writes a tensor as its dtype and shape, and this layer knows nothing of tensors), which plugs itself in when
/// the assembly loads. The methods are real ones, not a types file's: a module with a types file pays about 60 ms
/// more at every cold Import-Module (measured), however little the file holds.
/// </summary>
internal static class JsonDumps
{
    public static Func<object?, int?, string>? Writer { get; set; }

    public static string Of(object value, int? indent)
        => (Writer ?? throw new InvalidOperationException("No JSON writer is plugged in."))(value, indent);
}
