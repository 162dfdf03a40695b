namespace TorchSerial.Pickle;

/// <summary>Hears which globals a pickle references and which opcodes apply them, without changing the load.</summary>
internal interface IPickleObserver
{
    void GlobalReferenced(string fullName, string record, long offset);
    void GlobalUsed(string fullName, string opcode, string record, long offset);
}
