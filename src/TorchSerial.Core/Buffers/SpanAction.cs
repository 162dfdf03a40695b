namespace TorchSerial.Buffers;

/// <summary>Receives a run of bytes that is valid only during the call (a window of a buffer or of a scratch
/// array).</summary>
internal delegate void SpanAction(ReadOnlySpan<byte> chunk);
