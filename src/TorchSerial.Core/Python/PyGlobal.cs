namespace TorchSerial.Python;

/// <summary>
/// A reference to a Python global (class or function) that the policy admitted but that TorchSerial
/// does not model, e.g. a user's class admitted with <c>-AllowGlobal</c>. It is never resolved to code.
/// </summary>
public class PyGlobal
{
    public PyGlobal(string module, string name) { Module = module; Name = name; }
    public string Module { get; }
    public string Name { get; }
    public string FullName => Module + "." + Name;
    public override string ToString() => FullName;
}
