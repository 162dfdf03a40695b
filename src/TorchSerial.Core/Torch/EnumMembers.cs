using TorchSerial.Errors;
using TorchSerial.Pickle;
using TorchSerial.Python;

namespace TorchSerial.Torch;

/// <summary>
/// Python 3.11 and later pickle an enum member as <c>getattr(EnumClass, 'MEMBER')</c> (earlier ones as a call of the
/// class with its value). <c>builtins.getattr</c> is a building block of attacks, so it is admitted in one shape only:
/// a member name looked up on an enum class the container pickles as data by design (<see
/// cref="GlobalPolicy.DataClasses"/>). The member becomes an inert object; anything else is refused as UnsafeGlobal.
/// </summary>
internal static class EnumMembers
{
    public const string Getattr = "builtins.getattr";

    public static Callable Lookup(GlobalPolicy policy) => new(Getattr, args =>
    {
        if (args.Count == 2 && args[0] is PyGlobal cls && policy.DataClasses.Contains(cls.FullName)
            && args[1] is string member && member.Length > 0 && !member.StartsWith('_'))
            return new PyObject(cls, new PyTuple(new object?[] { member }), "getattr");
        string target = args.Count > 0 ? PickleArgs.Describe(args[0]) : "nothing";
        throw new TorchSerialException(ErrorIds.UnsafeGlobal, ErrorKind.SecurityError,
            $"The pickle calls '{Getattr}' on {target}. Only the member names of the enums this kind of checkpoint " +
                "pickles as data are admitted (an attribute lookup is how attack files reach functions), so the load " +
                "was stopped. Nothing was executed.");
    });
}
