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
            throw new MlpToolsException("TorchNativeLoadFailed", FailureKind.NotInstalled,
                $"{Diagnose(failure)} Run Test-MlpEnvironment for a full report of what was found.", NativeFolder, failure);
        }
    }

    /// <summary>Why libtorch cannot be used, or null when it loaded. Loads it on first use.</summary>
    public static string? LoadError => LoadFailure.Value is Exception failure ? Diagnose(failure) : null;

    /// <summary>The libtorch version TorchSharp was built for (e.g. 2.10.0); null when libtorch did not load.</summary>
    public static string? LibTorchVersion => LoadError is null ? torch.__version__ : null;

    /// <summary>libtorch's intra-op thread count; null when libtorch did not load.</summary>
    public static int? ThreadCount => LoadError is null ? torch.get_num_threads() : null;

    /// <summary>
    /// Runs libtorch with <paramref name="threadCount"/> intra-op threads until the returned scope is disposed. libtorch's
    /// setting is process-wide, and commands in several runspaces may overlap in any order, so the scopes are counted
    /// rather than stacked: while any is open, the count in force is that of the most recently started one still open;
    /// when the last one ends, the count from before the first is put back (even when commands fail or are stopped).
    /// Null leaves the setting alone (libtorch's default: one thread per core) and takes no part in this.
    /// </summary>
    public static IDisposable UseThreads(int? threadCount)
    {
        if (threadCount is not int count)
        {
            return NoThreadScope.Instance;
        }
        if (count < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(threadCount), count, "A thread count is at least 1.");
        }
        EnsureAvailable();
        lock (OpenThreadScopes)
        {
            if (OpenThreadScopes.Count == 0)
            {
                _threadsBeforeScopes = torch.get_num_threads();
            }
            var scope = new ThreadScope(count);
            OpenThreadScopes.Add(scope);
            torch.set_num_threads(count);
            return scope;
        }
    }

    /// <summary>The -ThreadCount scopes open now, oldest first; also the lock that guards the thread-count setting.</summary>
    private static readonly List<ThreadScope> OpenThreadScopes = new();
    private static int _threadsBeforeScopes;

    private sealed class ThreadScope(int count) : IDisposable
    {
        public int Count { get; } = count;

        public void Dispose()
        {
            lock (OpenThreadScopes)
            {
                if (OpenThreadScopes.Remove(this))
                {
                    torch.set_num_threads(OpenThreadScopes.Count == 0 ? _threadsBeforeScopes : OpenThreadScopes[^1].Count);
                }
            }
        }
    }

    private sealed class NoThreadScope : IDisposable
    {
        public static readonly NoThreadScope Instance = new();

        public void Dispose()
        {
        }
    }

    public static string TorchSharpVersion =>
        typeof(torch).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? typeof(torch).Assembly.GetName().Version?.ToString() ?? "unknown";

    /// <summary>The folder TorchSharp and libtorch's native libraries were loaded from.</summary>
    public static string NativeFolder => Path.GetDirectoryName(typeof(torch).Assembly.Location) ?? ".";

    /// <summary>TorchSharp's native bridge to libtorch (libLibTorchSharp.so on Linux).</summary>
    public static string NativeLibraryPath => Path.Combine(NativeFolder,
        RuntimeInformation.IsOSPlatform(OSPlatform.Windows) ? "LibTorchSharp.dll"
        : RuntimeInformation.IsOSPlatform(OSPlatform.OSX) ? "libLibTorchSharp.dylib" : "libLibTorchSharp.so");

    private static Exception? TryLoad()
    {
        // Load the native library ourselves first: when it cannot load, TorchSharp's own fallback prints pages to
        // the console and copies libtorch out of the NuGet cache, and all the user gets is "type initializer threw".
        string path = NativeLibraryPath;
        if (!File.Exists(path))
        {
            return new FileNotFoundException($"'{path}' is missing. Build the module for this platform with 'dotnet pwsh ./build.ps1 -Task Build'.", path);
        }
        try
        {
            NativeLibrary.Load(path);
            // The first touch of torch runs its static constructor, which binds to the library loaded above.
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
        string reason = failure switch
        {
            FileNotFoundException missing => missing.Message,
            DllNotFoundException or BadImageFormatException => $"'{NativeLibraryPath}' cannot be loaded: {LoaderMessage(failure)}",
            _ => $"TorchSharp failed to initialise: {Innermost(failure).Message}",
        };
        if (reason.Contains("GLIBCXX_", StringComparison.Ordinal))
        {
            reason += " The system's libstdc++ is older than the one libtorch was built with (Debian 12 and Ubuntu 22.04 lack GLIBCXX_3.4.32). " +
                      "Rebuild the module with 'dotnet pwsh ./build.ps1 -Task Build', which applies MlpTools' compatibility fix (it needs g++ and patchelf), or install a newer libstdc++.";
        }
        return $"libtorch, the native engine MlpTools runs on, is not available. {reason}";
    }

    /// <summary>
    /// The dynamic loader's own reason (e.g. "version `GLIBCXX_3.4.32' not found"): .NET puts it on the last line
    /// of its message, after generic advice about strace and LD_DEBUG.
    /// </summary>
    private static string LoaderMessage(Exception failure) =>
        failure.Message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? failure.Message;

    private static Exception Innermost(Exception e) => e.InnerException is null ? e : Innermost(e.InnerException);
}
