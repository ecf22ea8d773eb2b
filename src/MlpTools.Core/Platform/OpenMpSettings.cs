using System.Runtime.InteropServices;

namespace MlpTools.Core.Platform;

/// <summary>
/// How libtorch's OpenMP threads wait. On Linux libtorch runs its parallel loops and its matrix products on GNU
/// OpenMP (libgomp), whose threads spin GOMP_SPINCOUNT times (300,000 by default) at every barrier before they
/// sleep. On a quiet machine that is what makes small parallel steps fast; when another process is busy, the spinning
/// thread holds a core the thread it waits for needs, and training slows down many times over. 1,000 spins (about
/// 15 µs) were measured against 300,000, 10,000, 3,000 and OMP_WAIT_POLICY=passive on a shared 2-core machine (the
/// Load section of tests/Benchmark/Bench.ps1 compares them): 10,000 still made training 2 to 4 times slower under
/// load, passive costs most on a quiet machine, 1,000 was the fastest spinning setting in every condition seen.
/// libgomp reads its settings once, from the native environment, when it is loaded; on Unix .NET keeps its own copy
/// of the environment ($env: in PowerShell, Environment.SetEnvironmentVariable), which native code never sees. So the
/// settings are written with libc's setenv before libtorch loads: the user's own, when given in either environment,
/// otherwise <see cref="DefaultSpinCount"/>.
/// </summary>
internal static class OpenMpSettings
{
    /// <summary>Spins at a barrier before a waiting thread sleeps, when the user has chosen no wait policy and no spin count.</summary>
    public const string DefaultSpinCount = "1000";

    private static readonly string[] UserSettings = { "OMP_WAIT_POLICY", "GOMP_SPINCOUNT" };

    /// <summary>Call before libtorch (and with it libgomp) is loaded; later calls change nothing libgomp reads.</summary>
    public static void Apply()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }
        bool userChose = false;
        foreach (string name in UserSettings)
        {
            // Empty counts as not set: libgomp ignores an empty value (with a warning) and uses its own default.
            if (!string.IsNullOrEmpty(GetNative(name)))
            {
                userChose = true;
            }
            else if (Environment.GetEnvironmentVariable(name) is { Length: > 0 } managed)
            {
                // Set in PowerShell ($env:GOMP_SPINCOUNT = ...) after the process started: hand it on to libgomp.
                SetNative(name, managed);
                userChose = true;
            }
        }
        if (!userChose)
        {
            SetNative("GOMP_SPINCOUNT", DefaultSpinCount);
        }
    }

    /// <summary>The variable as native code sees it (libc's environment), or null when it is not set there.</summary>
    private static string? GetNative(string name) => Marshal.PtrToStringUTF8(GetEnv(name));

    private static void SetNative(string name, string value)
    {
        // A failure (out of memory) leaves libgomp at its own default, which is still correct, only slower under load.
        _ = SetEnv(name, value, overwrite: 1);
    }

    [DllImport("libc.so.6", EntryPoint = "getenv")]
    private static extern IntPtr GetEnv([MarshalAs(UnmanagedType.LPUTF8Str)] string name);

    [DllImport("libc.so.6", EntryPoint = "setenv")]
    private static extern int SetEnv([MarshalAs(UnmanagedType.LPUTF8Str)] string name, [MarshalAs(UnmanagedType.LPUTF8Str)] string value, int overwrite);
}
