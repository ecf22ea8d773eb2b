using System.Reflection;

namespace MlpTools.Core.Platform;

/// <summary>
/// Where this process takes its native libraries from (see <see cref="NativePackage"/> for the rules), found once,
/// and the file a native library name resolves to there. The module's load context asks it for every native library
/// the engine's assemblies load, so a dependency that brings a new one needs no change here.
/// </summary>
public static class NativeLibraries
{
    private static readonly Lazy<NativeLocation?> Located = new(Find, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The folder of the engine's assemblies (MlpTools.Core.dll, TorchSharp.dll).</summary>
    public static string EngineFolder => Path.GetDirectoryName(typeof(NativeLibraries).Assembly.Location) ?? ".";

    /// <summary>The module's version, which the platform package's version must go with.</summary>
    public static Version ModuleVersion =>
        Version.TryParse(typeof(NativeLibraries).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion?.Split('+', '-')[0], out Version? version)
            ? version : typeof(NativeLibraries).Assembly.GetName().Version ?? new Version(0, 0, 0);

    /// <summary>The folders searched for the platform package, in order.</summary>
    public static IReadOnlyList<string> ModuleRoots =>
        NativePackage.ModuleRoots(Environment.GetEnvironmentVariable("PSModulePath"), Path.PathSeparator, Path.GetDirectoryName(EngineFolder) ?? EngineFolder);

    /// <summary>What was found; null when the platform package is not installed.</summary>
    public static NativeLocation? Location => Located.Value;

    /// <summary>Why the native libraries cannot be found, with the command that installs them; null when they were found.</summary>
    public static string? MissingError => Located.Value is null
        ? NativePackage.MissingMessage(NativePackage.CurrentRuntimeId, ModuleVersion, new[] { EngineFolder }.Concat(ModuleRoots))
        : null;

    /// <summary>Stops with NativePackageMissing when the platform package is not installed.</summary>
    public static NativeLocation EnsureInstalled() =>
        Located.Value ?? throw new MlpToolsException(ErrorIds.NativePackageMissing, MissingError!, NativePackage.PackageName(NativePackage.CurrentRuntimeId));

    /// <summary>The full path of the native library asked for by <paramref name="name"/>, or null when it is not there.</summary>
    public static string? Resolve(string name) =>
        Located.Value is NativeLocation location
            ? NativePackage.LibraryFileNames(NativePackage.CurrentOS, name).Select(file => Path.Combine(location.Folder, file)).FirstOrDefault(File.Exists)
            : null;

    private static NativeLocation? Find() =>
        NativePackage.Locate(NativePackage.CurrentRuntimeId, NativePackage.TorchSharpLibraryFileName(NativePackage.CurrentOS), ModuleVersion, EngineFolder, ModuleRoots);
}
