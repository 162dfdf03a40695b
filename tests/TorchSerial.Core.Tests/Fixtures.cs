using System.Security.Cryptography;
using System.Text.Json;

namespace TorchSerial.Tests;

/// <summary>Paths and expected values of the committed fixtures (tests/fixtures).</summary>
internal static class Fixtures
{
    public static string Dir => Path.Combine(AppContext.BaseDirectory, "fixtures");
    public static string Torch(string name) => Path.Combine(Dir, "torch", name);
    public static string Crafted(string name) => Path.Combine(Dir, "crafted", name);
    public static string Pickle(string name) => Path.Combine(Dir, "pickles", name);

    public static JsonElement Expected { get; } = Load("expected.json");
    public static JsonElement CraftedExpected { get; } = Load("crafted.json");

    private static JsonElement Load(string file) => JsonDocument.Parse(File.ReadAllText(Path.Combine(Dir, file))).RootElement;

    public static string Sha256(byte[] bytes) => Convert.ToHexString(SHA256.HashData(bytes)).ToLowerInvariant();
}
