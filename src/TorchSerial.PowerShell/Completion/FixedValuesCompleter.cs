using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;

namespace TorchSerial.PowerShell.Completion;

/// <summary>Tab completion from a known list of values (PowerShellStandard 5.1 has no ArgumentCompletions
/// attribute).</summary>
public abstract class FixedValuesCompleter : IArgumentCompleter
{
    protected abstract IEnumerable<string> Values { get; }

    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName,
        string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var typed = (wordToComplete ?? "").Trim('\'', '"');
        var pattern = new WildcardPattern(typed + "*", WildcardOptions.IgnoreCase);
        foreach (var v in Values)
            if (pattern.IsMatch(v))
                yield return new CompletionResult(v.IndexOfAny(new[] { ' ', '*', '$' }) >= 0 ? $"'{v}'" : v, v, CompletionResultType.ParameterValue, v);
    }
}

/// <summary>Globals users commonly admit with -AllowGlobal.</summary>
public sealed class AllowGlobalCompleter : FixedValuesCompleter
{
    protected override IEnumerable<string> Values => new[]
    {
        "numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct", "numpy.ndarray", "numpy.dtype",
        "numpy.core.multiarray.scalar", "builtins.slice", "builtins.frozenset", "*",
    };
}

/// <summary>The pickle protocols torch.save writes, for -PickleProtocol (not file names).</summary>
public sealed class PickleProtocolCompleter : FixedValuesCompleter
{
    protected override IEnumerable<string> Values => new[] { "2", "3", "4", "5" };
}
