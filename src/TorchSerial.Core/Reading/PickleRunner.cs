using TorchSerial.Errors;
using TorchSerial.Pickle;
using TorchSerial.Torch;

namespace TorchSerial.Reading;

/// <summary>Runs one pickle from a stream's current position, leaving the stream just after its STOP.</summary>
internal static class PickleRunner
{
    public static object? Run(Stream stream, long end, string record, LoadOptions options, Func<object?,
        object?>? persistentLoad = null)
        => Run(new PickleInput(stream, end, record), record, options, persistentLoad);

    /// <summary>Runs a pickle held in memory (a zip's data.pkl). <paramref name="borrowsPersistentId"/>: the
    /// persistent load keeps no reference to the id tuple it is given.</summary>
    public static object? Run(byte[] pickle, int length, string record, LoadOptions options, Func<object?,
        object?>? persistentLoad = null, bool borrowsPersistentId = false)
        => Run(new PickleInput(pickle, length, record), record, options, persistentLoad, borrowsPersistentId);

    /// <summary>Runs a pickle held in memory with hooks other than torch.save's (a TorchScript archive's).</summary>
    public static object? Run(byte[] pickle, int length, string record, LoadOptions options, PickleHooks hooks)
        => new Unpickler(new PickleInput(pickle, length, record), hooks, options.Encoding,
            options.MaxPickleValues, options.MaxPickleBytes) { Observer = options.Observer }.Load();

    private static object? Run(PickleInput input, string record, LoadOptions options, Func<object?,
        object?>? persistentLoad, bool borrowsPersistentId = false)
    {
        persistentLoad ??= new Func<object?, object?>(pid => throw Fail.Data(ErrorIds.InvalidPersistentId,
            $"The pickle in '{record}' uses a persistent id where none is expected.", record));
        var hooks = TorchGlobals.Hooks(options.Policy, persistentLoad, borrowsPersistentId);
        return new Unpickler(input, hooks, options.Encoding,
            options.MaxPickleValues, options.MaxPickleBytes) { Observer = options.Observer }.Load();
    }
}
