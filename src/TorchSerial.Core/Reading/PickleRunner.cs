using TorchSerial.Pickle;

namespace TorchSerial;

/// <summary>Runs one pickle from a stream's current position, leaving the stream just after its STOP.</summary>
internal static class PickleRunner
{
    public static object? Run(Stream stream, long end, string record, LoadOptions options, Func<object?, object?>? persistentLoad = null)
    {
        var input = new PickleInput(stream, end, record);
        persistentLoad ??= pid => throw Fail.Data(ErrorIds.InvalidPersistentId,
            $"The pickle in '{record}' uses a persistent id where none is expected.", record);
        return new Unpickler(input, options.Policy, options.Encoding, persistentLoad, options.MaxPickleValues) { Observer = options.Observer }.Load();
    }
}
