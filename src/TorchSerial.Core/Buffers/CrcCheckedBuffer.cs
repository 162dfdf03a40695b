using TorchSerial.Errors;
using System.IO.Hashing;

namespace TorchSerial.Buffers;

/// <summary>
/// A layer that checks the bytes of its source against the CRC-32 the container recorded, whenever they are
/// read front to back (a load or a streaming save). Random reads pass through unchecked.
/// </summary>
internal sealed class CrcCheckedBuffer(StorageBuffer source, uint expected, string storageKey) : StorageBuffer
{
    /// <summary>The source, checked against <paramref name="crc"/> when <paramref name="verify"/> and the container
    /// recorded one.</summary>
    public static StorageBuffer Over(StorageBuffer source, uint? crc, bool verify, string storageKey)
        => verify && crc is { } expected ? new CrcCheckedBuffer(source, expected, storageKey) : source;

    public override long Length => source.Length;
    public override bool IsResident => source.IsResident;
    public override bool StreamVerifiesCrc => true;

    public override void Read(long offset, Span<byte> destination) => source.Read(offset, destination);

    public override bool IsRandomAccess => source.IsRandomAccess;

    public override ChunkReader OpenReader() => new Checking(source.OpenReader(), this);

    public override bool ReadsInChunks => source.ReadsInChunks;

    /// <summary>Reads a chunk and notes its CRC: the chunks' CRCs combine into the one to check (on every core for a
    /// large storage).</summary>
    public override void ReadChunk(long offset, Span<byte> destination, ChunkChecks checks)
    {
        source.ReadChunk(offset, destination, checks);
        checks.Note(this, offset, destination.Length, Crc32.HashToUInt32(destination));
    }

    /// <summary>The CRC the chunks of a whole read combined into, if it is the recorded one.</summary>
    public uint Verify(uint combined) => combined == expected ? expected : throw Mismatch();

    public TorchSerialException Mismatch() => Fail.Data(ErrorIds.CrcMismatch,
        $"The bytes of storage '{storageKey}' do not match the CRC-32 recorded for them (expected {expected:x8}): " +
            "the file was damaged " +
        "(or changed while open). torch.load would load them silently. Fetch the file again, or load with -SkipCrc " +
            "to recover what it holds.",
        storageKey);

    private sealed class Checking(ChunkReader inner, CrcCheckedBuffer owner) : ChunkReader
    {
        private readonly Crc32 _crc = new();
        private bool _verified;

        public override int Read(Span<byte> destination)
        {
            int n = inner.Read(destination);
            _crc.Append(destination[..n]);
            return n;
        }

        public override uint? VerifiedCrc => _verified ? owner.Expected : null;

        public override void Finish()
        {
            inner.Finish();
            if (_crc.GetCurrentHashAsUInt32() != owner.Expected) throw owner.Mismatch();
            _verified = true;
        }

        public override void Dispose() => inner.Dispose();
    }

    private uint Expected => expected;
}
