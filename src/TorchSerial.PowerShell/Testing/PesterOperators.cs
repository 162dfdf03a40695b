using System.Management.Automation;
using System.Management.Automation.Runspaces;

namespace TorchSerial.PowerShell.Testing;

/// <summary>
/// When the module is imported into a session that has Pester loaded, registers three Should operators built on
/// Assert-TorchCheckpoint: -BeTorchCheckpoint (loads cleanly), -BeFiniteCheckpoint (no NaN or Inf) and
/// -MatchTorchCheckpoint (matches -ExpectedValue within assert_close's tolerances). Pester 5 allows 32 operators and
/// registers 26, so three is the most a module should take. Pester is never loaded or required by this: without it,
/// Assert-TorchCheckpoint does the same in any It.
/// </summary>
public sealed class PesterOperators : IModuleAssemblyInitializer
{
    // Each operator runs Assert-TorchCheckpoint and turns its one error into Pester's failure message.
    private const string Script = """
        $assert = {
            param($ActualValue, [switch] $Negate, $Because, [hashtable] $With, [string] $What)
            $failure = $null
            try { Assert-TorchCheckpoint -LiteralPath $ActualValue @With -ErrorAction Stop } catch { $failure = $_.Exception.Message }
            $ok = ($null -eq $failure) -xor [bool] $Negate
            $why = if ($Because) { " because $Because" } else { '' }
            $message = if ($ok) { '' } elseif ($Negate) { "Expected '$ActualValue' not to $What$why, but it does." }
                       else { "Expected '$ActualValue' to $What$why, but: $failure" }
            [pscustomobject] @{ Succeeded = $ok; FailureMessage = $message }
        }.GetNewClosure()
        $operators = @(
            @{ Name = 'BeTorchCheckpoint'; Test = { param($ActualValue, [switch] $Negate, $Because)
                & $assert $ActualValue -Negate:$Negate $Because @{} 'load cleanly as a checkpoint' }.GetNewClosure() }
            @{ Name = 'BeFiniteCheckpoint'; Test = { param($ActualValue, [switch] $Negate, $Because)
                & $assert $ActualValue -Negate:$Negate $Because @{ Finite = $true } 'hold no NaN or Inf' }.GetNewClosure() }
            @{ Name = 'MatchTorchCheckpoint'; Test = { param($ActualValue, $ExpectedValue, [switch] $Negate, $Because)
                & $assert $ActualValue -Negate:$Negate $Because @{ ReferencePath = $ExpectedValue } "match '$ExpectedValue' within tolerance" }.GetNewClosure() }
        )
        $have = @(Get-ShouldOperator | ForEach-Object Name)
        foreach ($op in $operators) { if ($op.Name -notin $have) { Add-ShouldOperator -Name $op.Name -Test $op.Test } }
        """;

    public void OnImport()
    {
        // Pester 5 loads its Pester.dll on import; without it in the process, asking the session (a nested pipeline,
        // tens of milliseconds in a fresh pwsh) is not needed.
        if (!AppDomain.CurrentDomain.GetAssemblies().Any(a => a.GetName().Name == "Pester")) return;
        try
        {
            using var ps = System.Management.Automation.PowerShell.Create(RunspaceMode.CurrentRunspace);
            bool pester = ps.AddCommand("Get-Module").AddParameter("Name", "Pester").Invoke().Count > 0;
            if (!pester) return;
            ps.Commands.Clear();
            ps.AddScript(Script).Invoke();
        }
        catch (Exception ex) when (ex is PSInvalidOperationException or RuntimeException or InvalidOperationException)
        {
            // No runspace on this thread, or a Pester without Add-ShouldOperator: the operators are a convenience only.
        }
    }
}
