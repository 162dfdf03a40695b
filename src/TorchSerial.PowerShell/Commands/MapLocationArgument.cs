using TorchSerial.Torch;
using System.Collections;
using System.Management.Automation;

namespace TorchSerial.PowerShell.Commands;

/// <summary>Turns a -MapLocation argument (device name, hashtable or script block) into the core's
/// MapLocation.</summary>
internal static class MapLocationArgument
{
    public static MapLocation Parse(PSCmdlet cmdlet, object? value)
    {
        switch (value is PSObject ps ? ps.BaseObject : value)
        {
            case null:
                return MapLocation.Default;
            case string s when !string.IsNullOrWhiteSpace(s):
                return MapLocation.Device(s.Trim());
            case IDictionary d:
                var table = new Dictionary<string, string>(StringComparer.Ordinal);
                foreach (DictionaryEntry e in d)
                    table[e.Key?.ToString() ?? ""] = (e.Value is PSObject pv ? pv.BaseObject : e.Value)?.ToString()
                        ?? "";
                return MapLocation.Table(table);
            case ScriptBlock block:
                return MapLocation.Callback((storage, tag) => RunspaceLocations.First(block, storage, tag));
            default:
                cmdlet.ThrowTerminatingError(ErrorRecords.BadArgument(ErrorRecords.InvalidMapLocation,
                    $"-MapLocation takes a device name such as 'cpu', a hashtable such as @{{ 'cuda:1' = 'cpu' }}, " +
                        $"or a script block {{ param($storage, $location) ... }}; got {value}.", value));
                return MapLocation.Default;
        }
    }
}
