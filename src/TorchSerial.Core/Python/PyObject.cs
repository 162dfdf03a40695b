namespace TorchSerial.Python;

/// <summary>
/// An inert record of what a pickle asked for when it called or instantiated a global that the
/// user admitted with <c>-AllowGlobal</c>: the global's module and name, the arguments, and any
/// state, list items and dict items the pickle then applied. Nothing is executed.
/// </summary>
public sealed class PyObject
{
    public PyObject(PyGlobal type, PyTuple args, string how)
    {
        Type = type;
        Args = args;
        ConstructedBy = how;
    }

    public PyGlobal Type { get; }
    public string Module => Type.Module;
    public string Name => Type.Name;
    public PyTuple Args { get; }

    /// <summary>The opcode that produced it: REDUCE, NEWOBJ, NEWOBJ_EX, INST or OBJ.</summary>
    public string ConstructedBy { get; }

    /// <summary>Keyword arguments (NEWOBJ_EX only).</summary>
    public PyDict? KwArgs { get; set; }

    /// <summary>The BUILD state (usually the instance <c>__dict__</c>), or null.</summary>
    public object? State { get; set; }

    /// <summary>Items appended by APPEND/APPENDS, when the object was used as a list.</summary>
    public PyList? ListItems { get; set; }

    /// <summary>Items set by SETITEM/SETITEMS, when the object was used as a mapping.</summary>
    public PyDict? DictItems { get; set; }

    public override string ToString() => $"{Type.FullName}(inert)";
}
