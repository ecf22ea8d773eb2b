using System.Reflection;
using System.Runtime.InteropServices;
using TorchSharp;

namespace MlpTools.Core.Platform;

/// <summary>
/// Makes sure libtorch is loaded before any model code runs, and turns TorchSharp's
/// "type initializer threw" into an error that names what is missing.
/// </summary>
public static class TorchRuntime
{
    private static readonly Lazy<Exception?> LoadFailure = new(TryLoad, LazyThreadSafetyMode.ExecutionAndPublication);

    public static void EnsureAvailable()
    {
        if (LoadFailure.Value is MlpToolsException missing)
        {
            throw missing;
        }
        if (LoadFailure.Value is Exception failure)
        {
            throw new MlpToolsException(ErrorIds.TorchNativeLoadFailed,
                $"{Diagnose(failure)} Run Test-MlpEnvironment for a full report of what was found.", NativeFolder, failure);
        }
    }

    /// <summary>Why libtorch cannot be used, or null when it loaded. Loads it on first use.</summary>
    public static string? LoadError => LoadFailure.Value switch
    {
        MlpToolsException missing => missing.Message,
        Exception failure => Diagnose(failure),
        _ => null,
    };

    /// <summary>The libtorch version TorchSharp was built for (e.g. 2.10.0); null when libtorch did not load.</summary>
    public static string? LibTorchVersion => LoadError is null ? torch.__version__ : null;

    /// <summary>libtorch's intra-op thread count; null when libtorch did not load.</summary>
    public static int? ThreadCount => LoadError is null ? torch.get_num_threads() : null;

    /// <summary>
    /// libtorch's thread count for threads it has not met yet: the process-wide default each new thread (a new
    /// runspace's, for one) starts with. Null when libtorch did not load.
    /// </summary>
    public static int? DefaultThreadCount => LoadError is null ? OnNewThread(torch.get_num_threads) : null;

    /// <summary>Hidden layers at least this wide make products large enough to gain from every core.</summary>
    public const int WideLayer = 1024;

    /// <summary>
    /// Runs libtorch with <paramref name="threadCount"/> intra-op threads on the calling thread until the returned scope
    /// is disposed (on the same thread). libtorch keeps a count per thread and a process-wide default for threads it has
    /// not met yet, and setting one sets both; commands in several runspaces may overlap and end in any order. So the
    /// scopes are counted, not stacked: the default from before the first of the overlapping scopes is remembered, each
    /// scope gives its thread back the count it had (that default, for a thread that first met libtorch during the
    /// overlap), and the last scope to end puts that default back, even when commands fail or are stopped.
    /// Null leaves everything alone (libtorch's default: one thread per core) and takes no part in this.
    /// </summary>
    public static IDisposable UseThreads(int? threadCount)
    {
        if (threadCount is not int count)
        {
            return NoScope.Instance;
        }
        if (count < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(threadCount), count, "A thread count is at least 1.");
        }
        EnsureAvailable();
        lock (ThreadCountLock)
        {
            // Read first: libtorch gives a thread the default when it first reads the count, even after a set, so a
            // thread that only set it would later fall back to whatever the default is by then.
            int own = torch.get_num_threads();
            if (_openThreadScopes == 0)
            {
                _defaultBeforeScopes = OnNewThread(torch.get_num_threads);
            }
            // During an overlap this thread's own count may be another open scope's, taken as the default when it
            // first met libtorch; afterwards it gets the default from before the overlap.
            int previous = _openThreadScopes == 0 ? own : _defaultBeforeScopes;
            _openThreadScopes++;
            torch.set_num_threads(count);
            return new ThreadScope(previous);
        }
    }

    private static readonly object ThreadCountLock = new();
    private static int _openThreadScopes;
    private static int _defaultBeforeScopes;

    /// <summary>Runs <paramref name="work"/> on a thread of its own: the only way to read or set libtorch's default without touching a thread in use.</summary>
    private static int OnNewThread(Func<int> work)
    {
        int result = 0;
        var thread = new Thread(() => result = work()) { IsBackground = true };
        thread.Start();
        thread.Join();
        return result;
    }

    private sealed class ThreadScope(int previous) : IDisposable
    {
        private bool _disposed;

        public void Dispose()
        {
            lock (ThreadCountLock)
            {
                if (_disposed)
                {
                    return;
                }
                _disposed = true;
                _openThreadScopes--;
                torch.set_num_threads(previous);
                if (_openThreadScopes == 0 && previous != _defaultBeforeScopes)
                {
                    OnNewThread(() =>
                    {
                        torch.set_num_threads(_defaultBeforeScopes);
                        return 0;
                    });
                }
            }
        }
    }

    private sealed class NoScope : IDisposable
    {
        public static readonly NoScope Instance = new();

        public void Dispose()
        {
        }
    }

    /// <summary>
    /// Flushes denormal floats (magnitudes below 1.2e-38 in float32) to zero on the calling thread, in what it computes
    /// and reads, until the returned scope is disposed on the same thread: libtorch's at::Context::setFlushDenormal, the
    /// CPU's per-thread flush-to-zero and denormals-are-zero modes. Training computes so, as TensorFlow does by default:
    /// Adam's moments for inputs that stop occurring (MNIST's border pixels) decay through the denormal range, where
    /// each operation on them is many times slower (the notebook's Adam step took 0.59-0.66 ms from the fourth epoch
    /// on, 0.40-0.44 ms flushed; the losses were the same to the last bit). Only where libtorch computes on the calling
    /// thread alone (intra-op count 1): a thread started while the mode is on keeps it for good, and libtorch starts
    /// its pool's threads at its first parallel operation (.NET's tiered-compilation worker may start during a batch;
    /// the mode changes nothing in what it compiles but the folding of constant arithmetic on denormals). Scopes on
    /// one thread nest. Does nothing elsewhere, nor where libtorch did not load or the CPU cannot flush.
    /// </summary>
    internal static IDisposable FlushDenormals()
    {
        if (FlushDenormalSetter.Value is not { } set || (_flushDenormalDepth == 0 && (torch.get_num_threads() != 1 || set(1) == 0)))
        {
            return NoScope.Instance;
        }
        _flushDenormalDepth++;
        return new FlushDenormalScope(set);
    }

    // C++ bools in and out: at::Context::setFlushDenormal is static, and returns false where it cannot flush.
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate byte SetFlushDenormal(byte on);

    private static readonly Lazy<SetFlushDenormal?> FlushDenormalSetter = new(FindFlushDenormalSetter, LazyThreadSafetyMode.ExecutionAndPublication);

    [ThreadStatic]
    private static int _flushDenormalDepth;

    /// <summary>libtorch's setter, by its exported C++ name (TorchSharp does not wrap it); null when it cannot be found.</summary>
    private static SetFlushDenormal? FindFlushDenormalSetter()
    {
        if (LoadError is not null)
        {
            return null;
        }
        string symbol = NativePackage.CurrentOS == OSPlatform.Windows ? "?setFlushDenormal@Context@at@@SA_N_N@Z" : "_ZN2at7Context16setFlushDenormalEb";
        string? library = NativePackage.LibraryFileNames(NativePackage.CurrentOS, "torch_cpu").Select(file => Path.Combine(NativeFolder, file)).FirstOrDefault(File.Exists);
        return library is not null && NativeLibrary.TryLoad(library, out IntPtr handle) && NativeLibrary.TryGetExport(handle, symbol, out IntPtr setter)
            ? Marshal.GetDelegateForFunctionPointer<SetFlushDenormal>(setter)
            : null;
    }

    private sealed class FlushDenormalScope(SetFlushDenormal set) : IDisposable
    {
        private bool _disposed;

        public void Dispose()
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
            if (--_flushDenormalDepth == 0)
            {
                set(0);
            }
        }
    }

    public static string TorchSharpVersion =>
        typeof(torch).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? typeof(torch).Assembly.GetName().Version?.ToString() ?? "unknown";

    /// <summary>The folder libtorch's native libraries are loaded from: the platform package's, or the engine's own in a development build.</summary>
    public static string NativeFolder => NativeLibraries.Location?.Folder ?? NativeLibraries.EngineFolder;

    /// <summary>TorchSharp's native bridge to libtorch (libLibTorchSharp.so on Linux).</summary>
    public static string NativeLibraryPath => Path.Combine(NativeFolder, NativePackage.TorchSharpLibraryFileName(NativePackage.CurrentOS));

    private static Exception? TryLoad()
    {
        // Load the native library ourselves first: when it cannot load, TorchSharp's own fallback prints pages to
        // the console and copies libtorch out of the NuGet cache, and all the user gets is "type initializer threw".
        if (NativeLibraries.Location is null)
        {
            try
            {
                NativeLibraries.EnsureInstalled();
            }
            catch (MlpToolsException missing)
            {
                return missing;
            }
        }
        string path = NativeLibraryPath;
        if (!File.Exists(path))
        {
            return new FileNotFoundException($"'{path}' is missing. {Reinstall}", path);
        }
        try
        {
            OpenMpSettings.Apply();
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

    /// <summary>How to get a complete copy of the native libraries back, for where they came from.</summary>
    private static string Reinstall => NativeLibraries.Location is { IsPackage: true } package
        ? $"Reinstall the platform package: Install-PSResource {package.PackageName} -Version {package.PackageVersion} -Reinstall"
        : "Build the module for this platform with 'dotnet pwsh ./build.ps1 -Task Build'.";

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
                      (NativeLibraries.Location?.IsPackage == true
                          ? $"The platform package carries MlpTools' compatibility fix for it: {Reinstall}"
                          : "Rebuild the module with 'dotnet pwsh ./build.ps1 -Task Build', which applies MlpTools' compatibility fix (it needs g++ and patchelf), or install a newer libstdc++.");
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
