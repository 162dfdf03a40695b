using System.Collections;

namespace TorchSerial.Containers;

/// <summary>
/// An archive's record names relative to its root folder, made only when first asked for: a lazy open of 40,000
/// tensors would otherwise build 40,000 substrings that almost no caller reads. It keeps the full names, not the
/// entries, so that an eager load's directory can still be collected once its data is read.
/// </summary>
internal sealed class RecordNames(IReadOnlyList<ZipEntry> entries, string root) : IReadOnlyList<string>
{
    private readonly string[] _full = entries.Select(e => e.Name).ToArray();
    private string[]? _names;

    public int Count => _full.Length;

    public string this[int index] => Names[index];

    public IEnumerator<string> GetEnumerator() => ((IEnumerable<string>)Names).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private string[] Names => _names ??= Make();

    private string[] Make()
    {
        var names = new string[_full.Length];
        string prefix = root + "/";
        for (int i = 0; i < names.Length; i++)
        {
            string name = _full[i];
            names[i] = name.StartsWith(prefix, StringComparison.Ordinal) ? name[prefix.Length..] : name;
        }
        return names;
    }
}
