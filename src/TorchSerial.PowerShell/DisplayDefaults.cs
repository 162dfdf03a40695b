using System.Collections.Concurrent;
using System.Management.Automation;

namespace TorchSerial.PowerShell;

/// <summary>
/// Output that formats where the module's views are not loaded. A runspace without a host of its own ("Default
/// Host": a ForEach-Object -Parallel worker, a thread job, a hosting application) hands its objects to another
/// runspace to render, which may never have imported the module: without our views, PowerShell would list every
/// property. There, each object carries PSStandardMembers.DefaultDisplayPropertySet, which PowerShell uses only when
/// no view exists (a runspace with our views still uses the view). The properties are taken from the type's own table
/// view, so the views stay the one place that says what a row shows; a console runspace pays nothing.
/// </summary>
internal static class DisplayDefaults
{
    private const string NoUiHost = "Default Host";

    // PowerShell shows an object with at most four default properties as a table, and one with more as a list.
    private const int TableColumns = 4;

    private static readonly ConcurrentDictionary<Type, string[]?> ByType = new();

    /// <summary>The object to write: itself, or where it renders elsewhere, wrapped with its display
    /// properties.</summary>
    public static object? For(PSCmdlet cmdlet, object? value)
    {
        if (value is null || cmdlet.Host?.Name != NoUiHost) return value;
        var names = ByType.GetOrAdd(value.GetType(), ViewProperties);
        if (names is null) return value;
        var wrapped = PSObject.AsPSObject(value);
        if (wrapped.Members["PSStandardMembers"] is null)
            wrapped.Members.Add(new PSMemberSet("PSStandardMembers", new PSMemberInfo[]
            {
                new PSPropertySet("DefaultDisplayPropertySet", names),
            }));
        return wrapped;
    }

    /// <summary>
    /// The first columns of the type's table view that are properties: a property column by its name, a script-block
    /// column by its label where the type has a property of that name (DType, Shape). Null for a type with no table
    /// view, or when the view cannot be read.
    /// </summary>
    private static string[]? ViewProperties(Type type)
    {
        try
        {
            using var ps = System.Management.Automation.PowerShell.Create(RunspaceMode.CurrentRunspace);
            var data = ps.AddCommand("Microsoft.PowerShell.Utility\\Get-FormatData")
                .AddParameter("TypeName", type.FullName).Invoke<ExtendedTypeDefinition>();
            var table = data.SelectMany(d => d.FormatViewDefinition).Select(v => v.Control)
                .OfType<TableControl>().FirstOrDefault();
            if (table is null || table.Rows.Count == 0) return null;
            var properties = type.GetProperties().Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
            var names = table.Rows[0].Columns.Select((column, i) => column.DisplayEntry.ValueType switch
                {
                    DisplayEntryValueType.Property => column.DisplayEntry.Value,
                    _ => i < table.Headers.Count ? table.Headers[i].Label : null,
                })
                .OfType<string>().Where(properties.Contains).Take(TableColumns).ToArray();
            return names.Length > 0 ? names : null;
        }
        catch (Exception ex) when (ex is RuntimeException or PSInvalidOperationException)
        {
            return null;
        }
    }
}
