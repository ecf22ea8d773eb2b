using System.Reflection;
using System.Runtime.InteropServices;
using TorchSharp;

namespace MlpTools.Core.Native;

/// <summary>
/// Makes sure libtorch is loaded before any model code runs, and turns TorchSharp's
/// "type initializer threw" into an error that names what is missing.
/// </summary>
public static class TorchRuntime
{
    private static readonly Lazy<Exception?> LoadFailure = new(TryLoad, LazyThreadSafetyMode.ExecutionAndPublication);

    public static void EnsureAvailable()
    {
        if (LoadFailure.Value is Exception failure)
        {
            throw new MlpToolsException("TorchNativeLoadFailed", FailureKind.NotInstalled, Diagnose(failure), NativeFolder, failure);
        }
    }

    public static string TorchSharpVersion =>
        typeof(torch).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? typeof(torch).Assembly.GetName().Version?.ToString() ?? "unknown";

    private static string NativeFolder => Path.GetDirectoryName(typeof(torch).Assembly.Location) ?? ".";

    private static Exception? TryLoad()
    {
        try
        {
            // The first touch of torch runs its static constructor, which loads the native libraries.
            _ = torch.get_num_threads();
            return null;
        }
        catch (Exception e)
        {
            return e;
        }
    }

    private static string Diagnose(Exception failure)
    {
        string library = RuntimeInformation.IsOSPlatform(OSPlatform.Windows) ? "LibTorchSharp.dll"
            : RuntimeInformation.IsOSPlatform(OSPlatform.OSX) ? "libLibTorchSharp.dylib" : "libLibTorchSharp.so";
        string path = Path.Combine(NativeFolder, library);
        string reason;
        if (!File.Exists(path))
        {
            reason = $"'{path}' is missing. Build the module for this platform with 'dotnet pwsh ./build.ps1 -Task Build'.";
        }
        else
        {
            // Loading the library directly surfaces the dynamic loader's own message (a missing GLIBCXX version, a missing libtorch file).
            try
            {
                NativeLibrary.Free(NativeLibrary.Load(path));
                reason = $"TorchSharp failed to initialise: {Innermost(failure).Message}";
            }
            catch (Exception e)
            {
                reason = $"'{path}' cannot be loaded: {e.Message}";
                if (e.Message.Contains("GLIBCXX_", StringComparison.Ordinal))
                {
                    reason += " The system's libstdc++ is older than the one libtorch was built with (Debian 12 and Ubuntu 22.04 lack GLIBCXX_3.4.32). " +
                              "Rebuild the module with 'dotnet pwsh ./build.ps1 -Task Build', which applies MlpTools' compatibility fix (it needs g++ and patchelf), or install a newer libstdc++.";
                }
            }
        }
        return $"libtorch, the native engine MlpTools runs on, is not available. {reason}";
    }

    private static Exception Innermost(Exception e) => e.InnerException is null ? e : Innermost(e.InnerException);
}
