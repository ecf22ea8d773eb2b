using System.Runtime.InteropServices;

namespace MlpTools.Core.Platform;

/// <summary>Where the native libraries were found: an installed platform package, or the development build's engine folder.</summary>
/// <param name="Folder">The folder holding libtorch, LibTorchSharp, libSkiaSharp and the rest.</param>
/// <param name="PackageName">MlpTools.Native.&lt;rid&gt;, or null for the development layout.</param>
/// <param name="PackageVersion">The package's version (its folder's name), or null for the development layout.</param>
public sealed record NativeLocation(string RuntimeId, string Folder, string? PackageName, string? PackageVersion)
{
    public bool IsPackage => PackageName is not null;
}

/// <summary>
/// The platform rules for MlpTools' native libraries, as pure functions of the OS, architecture and folders given:
/// the runtime id, the platform package's name and layout, and the file names a library is asked for by.
/// The main module (cmdlets and managed engine) is one package; libtorch, LibTorchSharp, libSkiaSharp and any other
/// native library the engine's dependencies bring ship in one package per platform, MlpTools.Native.&lt;rid&gt;,
/// which PSResourceGet installs as &lt;PSModulePath entry&gt;/MlpTools.Native.&lt;rid&gt;/&lt;version&gt;/native/.
/// </summary>
public static class NativePackage
{
    public const string PackagePrefix = "MlpTools.Native.";

    /// <summary>The folder inside an installed platform package (next to its manifest) that holds the libraries.</summary>
    public const string NativeFolderName = "native";

    /// <summary>The platforms a native package is built for.</summary>
    public static IReadOnlyList<string> ShippedRuntimeIds { get; } = new[] { "linux-x64", "win-x64", "osx-arm64" };

    /// <summary>The DLLs of the Visual C++ runtime that libtorch's Windows libraries import and do not ship.</summary>
    public static IReadOnlyList<string> VisualCppRuntimeFiles { get; } = new[] { "vcruntime140.dll", "vcruntime140_1.dll", "msvcp140.dll" };

    public static OSPlatform CurrentOS =>
        RuntimeInformation.IsOSPlatform(OSPlatform.Windows) ? OSPlatform.Windows
        : RuntimeInformation.IsOSPlatform(OSPlatform.OSX) ? OSPlatform.OSX : OSPlatform.Linux;

    public static string CurrentRuntimeId => RuntimeId(CurrentOS, RuntimeInformation.ProcessArchitecture);

    /// <summary>The .NET runtime id: linux-x64, win-x64, osx-arm64, ...</summary>
    public static string RuntimeId(OSPlatform os, Architecture architecture)
    {
        string prefix = os == OSPlatform.Windows ? "win" : os == OSPlatform.OSX ? "osx" : "linux";
        return $"{prefix}-{architecture.ToString().ToLowerInvariant()}";
    }

    public static string PackageName(string runtimeId) => PackagePrefix + runtimeId;

    /// <summary>The shared-library extension of <paramref name="os"/>.</summary>
    public static string LibraryExtension(OSPlatform os) => os == OSPlatform.Windows ? ".dll" : os == OSPlatform.OSX ? ".dylib" : ".so";

    /// <summary>TorchSharp's native bridge to libtorch: LibTorchSharp.dll, libLibTorchSharp.so or libLibTorchSharp.dylib.</summary>
    public static string TorchSharpLibraryFileName(OSPlatform os) => LibraryFileNames(os, "LibTorchSharp")[0];

    /// <summary>
    /// The file names a native library asked for by <paramref name="name"/> (as in DllImport: "LibTorchSharp",
    /// "libSkiaSharp", "onnxruntime") can have on <paramref name="os"/>, the usual spelling first.
    /// </summary>
    public static IReadOnlyList<string> LibraryFileNames(OSPlatform os, string name)
    {
        string extension = LibraryExtension(os);
        if (name.EndsWith(extension, StringComparison.OrdinalIgnoreCase) || (os == OSPlatform.Linux && name.Contains(".so.", StringComparison.Ordinal)))
        {
            return new[] { name };
        }
        if (os == OSPlatform.Windows)
        {
            return new[] { name + extension };
        }
        return name.StartsWith("lib", StringComparison.Ordinal)
            ? new[] { name + extension, $"lib{name}{extension}" }
            : new[] { $"lib{name}{extension}", name + extension };
    }

    /// <summary>The platform package folders to look in: every PSModulePath entry, then the folder the main module is installed in.</summary>
    /// <param name="psModulePath">The PSModulePath environment variable (null when unset).</param>
    /// <param name="moduleFolder">The main module's folder (the one with MlpTools.psd1).</param>
    public static IReadOnlyList<string> ModuleRoots(string? psModulePath, char separator, string moduleFolder)
    {
        var roots = (psModulePath ?? "").Split(separator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
        // Installed by PSResourceGet the module sits in <root>/MlpTools/<version>; imported by path, <root> may not be on PSModulePath.
        DirectoryInfo? parent = Directory.GetParent(Path.TrimEndingDirectorySeparator(moduleFolder));
        if (parent is not null && Version.TryParse(Path.GetFileName(Path.TrimEndingDirectorySeparator(moduleFolder)), out _))
        {
            parent = parent.Parent;
        }
        if (parent is not null)
        {
            roots.Add(parent.FullName);
        }
        return roots.Distinct(StringComparer.Ordinal).ToArray();
    }

    /// <summary>
    /// A platform package version goes with a module version when their first three parts agree (natives are
    /// built with the module, from the same TorchSharp); a fourth part lets a platform package be re-released alone.
    /// </summary>
    public static bool IsCompatible(Version packageVersion, Version moduleVersion) =>
        packageVersion.Major == moduleVersion.Major && packageVersion.Minor == moduleVersion.Minor
        && Math.Max(packageVersion.Build, 0) == Math.Max(moduleVersion.Build, 0);

    /// <summary>
    /// Finds the native libraries for <paramref name="runtimeId"/>: the engine folder itself when it holds
    /// <paramref name="torchSharpLibrary"/> (the development layout of 'build.ps1 -Task Build'), else the highest
    /// compatible version of the platform package under any of <paramref name="moduleRoots"/> (the earlier root wins
    /// a tie). Null when neither is there.
    /// </summary>
    public static NativeLocation? Locate(string runtimeId, string torchSharpLibrary, Version moduleVersion, string engineFolder, IEnumerable<string> moduleRoots)
    {
        if (File.Exists(Path.Combine(engineFolder, torchSharpLibrary)))
        {
            return new NativeLocation(runtimeId, engineFolder, null, null);
        }
        string packageName = PackageName(runtimeId);
        var candidates =
            from root in moduleRoots.Select((path, order) => (path, order))
            let packageFolder = Path.Combine(root.path, packageName)
            where Directory.Exists(packageFolder)
            from versionFolder in Directory.EnumerateDirectories(packageFolder)
            let version = Version.TryParse(Path.GetFileName(versionFolder), out Version? parsed) ? parsed : null
            where version is not null && IsCompatible(version, moduleVersion)
            let nativeFolder = Path.Combine(versionFolder, NativeFolderName)
            where File.Exists(Path.Combine(nativeFolder, torchSharpLibrary))
            orderby version descending, root.order
            select new NativeLocation(runtimeId, nativeFolder, packageName, Path.GetFileName(versionFolder));
        return candidates.FirstOrDefault();
    }

    /// <summary>What to run when nothing was found: the exact command, or why there is none for this platform.</summary>
    public static string MissingMessage(string runtimeId, Version moduleVersion, IEnumerable<string> searched)
    {
        string version = $"{moduleVersion.Major}.{moduleVersion.Minor}.{Math.Max(moduleVersion.Build, 0)}";
        string where = $"Looked for {PackageName(runtimeId)} {version} in: {string.Join(", ", searched)}.";
        return ShippedRuntimeIds.Contains(runtimeId)
            ? $"MlpTools' native libraries for {runtimeId} (libtorch and SkiaSharp) are not installed. Run: Install-PSResource {PackageName(runtimeId)} -Version {version}  {where}"
            : $"MlpTools has no native package for {runtimeId}; packages exist for {string.Join(", ", ShippedRuntimeIds)}. Build the module from source on this machine ('dotnet pwsh ./build.ps1 -Task Build'). {where}";
    }

    /// <summary>The Visual C++ runtime DLLs libtorch needs that are not in <paramref name="systemFolder"/> (System32); empty when all are.</summary>
    public static IReadOnlyList<string> MissingVisualCppRuntime(string systemFolder) =>
        VisualCppRuntimeFiles.Where(file => !File.Exists(Path.Combine(systemFolder, file))).ToArray();

    public const string VisualCppRuntimeFix =
        "Install the Microsoft Visual C++ Redistributable for Visual Studio 2015-2022 (x64): 'winget install Microsoft.VCRedist.2015+.x64', or https://aka.ms/vs/17/release/vc_redist.x64.exe.";
}
