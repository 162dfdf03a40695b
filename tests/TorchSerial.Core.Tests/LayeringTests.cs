using System.Reflection;
using System.Reflection.Emit;
using TorchSerial.Tensors;
using Xunit;

namespace TorchSerial.Tests;

/// <summary>
/// Keeps the house's arrows running down: each folder of the core (its namespace) may use only the layers
/// below it. The check reads every type's signatures and every method body's IL, so a reference hidden in a
/// lambda, a local function or a fully qualified name counts as much as a using directive.
/// </summary>
public class LayeringTests
{
    /// <summary>What each layer may use, besides itself. Devices sit beside the top: nothing in the core uses
    /// them.</summary>
    private static readonly Dictionary<string, string[]> Allowed = new()
    {
        ["Errors"] = Array.Empty<string>(),
        ["Buffers"] = new[] { "Errors" },
        ["Tensors"] = new[] { "Buffers", "Errors" },
        ["Python"] = new[] { "Errors" },
        ["Pickle"] = new[] { "Python", "Errors" },
        ["Containers"] = new[] { "Tensors", "Buffers", "Errors" },
        ["Torch"] = new[] { "Pickle", "Python", "Containers", "Tensors", "Buffers", "Errors" },
        ["Reading"] = new[] { "Torch", "Pickle", "Python", "Containers", "Tensors", "Buffers", "Errors" },
        ["Writing"] = new[] { "Torch", "Pickle", "Python", "Containers", "Tensors", "Buffers", "Errors" },
        ["Scanning"] = new[] { "Reading", "Torch", "Pickle", "Python", "Containers", "Tensors", "Buffers", "Errors" },
        ["Toolbox"] = new[] { "Reading", "Writing", "Torch", "Pickle", "Python", "Containers", "Tensors", "Buffers",
            "Errors" },
        ["Devices"] = new[] { "Torch", "Tensors", "Buffers", "Errors" },
        ["Provenance"] = new[] { "Errors" },
    };

    private static readonly Assembly Core = typeof(Tensor).Assembly;

    [Fact]
    public void EveryNamespaceOfTheCoreIsALayerWithRules()
    {
        var layers = CoreTypes().Select(t => Layer(t)!).Distinct().OrderBy(n => n).ToList();
        Assert.Equal(Allowed.Keys.OrderBy(n => n).ToList(), layers);
    }

    [Fact]
    public void NoArrowRunsBackUp()
    {
        var violations = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var type in CoreTypes())
        {
            string from = Layer(type)!;
            foreach (var used in References(type))
            {
                if (Layer(used) is not { } to || to == from || Allowed[from].Contains(to)) continue;
                violations.Add($"{type.FullName} ({from}) uses {used.FullName} ({to})");
            }
        }
        Assert.Empty(violations);
    }

    [Fact]
    public void OnlyTheDevicesLayerReferencesIlgpu()
    {
        var offenders = CoreTypes().Where(t => Layer(t) != "Devices")
            .SelectMany(t => References(t).Where(u => u.Assembly.GetName().Name == "ILGPU").Select(u
                => $"{t.FullName} uses {u.FullName}"))
            .Distinct().ToList();
        Assert.Empty(offenders);
        // and the layers really do use it where they should, so the check above is not vacuous
        Assert.Contains(CoreTypes().Where(t => Layer(t) == "Devices"), t => References(t).Any(u
            => u.Assembly.GetName().Name == "ILGPU"));
    }

    [Fact]
    public void TheCheckSeesReferencesInsideMethodBodies()
    {
        // A deliberate reference from a method body: the storage resolver (Torch) constructs a LazyBuffer (Buffers).
        var resolver = Core.GetType("TorchSerial.Torch.StorageResolver", throwOnError: true)!;
        Assert.Contains(References(resolver), u => u.FullName == "TorchSerial.Buffers.LazyBuffer");
    }

    private static IEnumerable<Type> CoreTypes() => Core.GetTypes().Where(t => Layer(t) is not null);

    /// <summary>The layer a type belongs to: the namespace segment after TorchSerial, for the core's own
    /// types.</summary>
    private static string? Layer(Type t)
    {
        while (t.DeclaringType is not null) t = t.DeclaringType;
        if (t.Assembly != Core || t.Namespace is not { } ns || !ns.StartsWith("TorchSerial.",
            StringComparison.Ordinal)) return null;
        return ns.Split('.')[1];
    }

    private const BindingFlags All = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    /// <summary>Every type a type's signatures and method bodies mention (generic arguments and element types
    /// unwrapped).</summary>
    private static HashSet<Type> References(Type type)
    {
        var found = new HashSet<Type>();
        void Add(Type? t)
        {
            if (t is null || !found.Add(t)) return;
            if (t.HasElementType) Add(t.GetElementType());
            if (t.IsGenericType) foreach (var a in t.GetGenericArguments()) Add(a);
        }
        Add(type.BaseType);
        foreach (var i in type.GetInterfaces()) Add(i);
        foreach (var f in type.GetFields(All)) Add(f.FieldType);
        foreach (var p in type.GetProperties(All)) Add(p.PropertyType);
        foreach (var m in type.GetMethods(All).Cast<MethodBase>().Concat(type.GetConstructors(All)))
        {
            if (m is MethodInfo mi) Add(mi.ReturnType);
            foreach (var p in m.GetParameters()) Add(p.ParameterType);
            foreach (var t in BodyReferences(m)) Add(t);
        }
        foreach (var nested in type.GetNestedTypes(All)) foreach (var t in References(nested)) Add(t);
        return found;
    }

    private static readonly Dictionary<short,
        OpCode> OpCodesByValue = typeof(OpCodes).GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!).ToDictionary(o => o.Value);

    /// <summary>Types named by the tokens of a method body's IL: calls, field accesses, casts, allocations,
    /// ldtoken.</summary>
    private static IEnumerable<Type> BodyReferences(MethodBase method)
    {
        var il = method.GetMethodBody()?.GetILAsByteArray();
        if (il is null) yield break;
        var module = method.Module;
        var typeArgs = method.DeclaringType?.IsGenericType == true ? method.DeclaringType.GetGenericArguments() : null;
        var methodArgs = method.IsGenericMethod ? method.GetGenericArguments() : null;
        int at = 0;
        while (at < il.Length)
        {
            short value = il[at] == 0xFE ? (short)(0xFE00 | il[at + 1]) : il[at];
            at += il[at] == 0xFE ? 2 : 1;
            var op = OpCodesByValue[value];
            switch (op.OperandType)
            {
                case OperandType.InlineField or OperandType.InlineMethod or OperandType.InlineTok or OperandType.InlineType:
                    int token = BitConverter.ToInt32(il, at);
                    MemberInfo? member = null;
                    try { member = module.ResolveMember(token, typeArgs, methodArgs); } catch (ArgumentException) { }
                    if (member is Type t) yield return t;
                    else if (member?.DeclaringType is { } d) yield return d;
                    if (member is FieldInfo fi) yield return fi.FieldType;
                    if (member is MethodInfo mi) yield return mi.ReturnType;
                    at += 4;
                    break;
                case OperandType.InlineSwitch: at += 4 + 4 * BitConverter.ToInt32(il, at); break;
                case OperandType.InlineNone: break;
                case OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar: at += 1; break;
                case OperandType.InlineVar: at += 2; break;
                case OperandType.InlineI8 or OperandType.InlineR: at += 8; break;
                default: at += 4; break;
            }
        }
    }
}
