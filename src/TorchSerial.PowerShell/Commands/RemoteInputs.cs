using System.Runtime.InteropServices;
using System.Security;
using TorchSerial.Buffers.Remote;

namespace TorchSerial.PowerShell.Commands;

/// <summary>The options the reading cmdlets' -Token, -SkipCertificateCheck and -TimeoutSec make.</summary>
internal static class RemoteInputs
{
    public static RemoteOptions Options(SecureString? token, bool skipCertificateCheck, int timeoutSec)
        => new()
        {
            Token = token is null ? null : Plain(token),
            SkipCertificateCheck = skipCertificateCheck,
            Timeout = TimeSpan.FromSeconds(timeoutSec),
        };

    /// <summary>A secure string's text (a token, as Invoke-RestMethod -Token reads it to build its Authorization
    /// header; a key's password).</summary>
    internal static string Plain(SecureString token)
    {
        IntPtr text = Marshal.SecureStringToGlobalAllocUnicode(token);
        try { return Marshal.PtrToStringUni(text) ?? ""; }
        finally { Marshal.ZeroFreeGlobalAllocUnicode(text); }
    }
}
