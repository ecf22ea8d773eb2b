using System.Runtime.InteropServices;
using MlpTools.Core.Diagnostics;
using MlpTools.Core.Platform;
using Xunit;
using static MlpTools.Core.Tests.TestData;

namespace MlpTools.Core.Tests;

/// <summary>The platform rules of the native packages, for every platform, as pure functions: nothing here runs Windows or macOS code.</summary>
[Collection(DataPathEnvironmentCollection.Name)]
public class NativePackageTests
{
    [Theory]
    [InlineData("Linux", Architecture.X64, "linux-x64", "MlpTools.Native.linux-x64")]
    [InlineData("Windows", Architecture.X64, "win-x64", "MlpTools.Native.win-x64")]
    [InlineData("OSX", Architecture.Arm64, "osx-arm64", "MlpTools.Native.osx-arm64")]
    [InlineData("Windows", Architecture.Arm64, "win-arm64", "MlpTools.Native.win-arm64")]
    [InlineData("Linux", Architecture.Arm64, "linux-arm64", "MlpTools.Native.linux-arm64")]
    public void NamesThePlatformAndItsPackage(string os, Architecture architecture, string runtimeId, string package)
    {
        Assert.Equal(runtimeId, NativePackage.RuntimeId(OSPlatform.Create(os.ToUpperInvariant()), architecture));
        Assert.Equal(package, NativePackage.PackageName(runtimeId));
    }

    [Theory]
    [InlineData("Linux", "libLibTorchSharp.so")]
    [InlineData("Windows", "LibTorchSharp.dll")]
    [InlineData("OSX", "libLibTorchSharp.dylib")]
    public void NamesTorchSharpsNativeBridgeAsEachPlatformSpellsIt(string os, string file) =>
        Assert.Equal(file, NativePackage.TorchSharpLibraryFileName(OSPlatform.Create(os.ToUpperInvariant())));

    [Theory]
    [InlineData("Windows", "LibTorchSharp", "LibTorchSharp.dll")]
    [InlineData("Windows", "libSkiaSharp", "libSkiaSharp.dll")]
    [InlineData("Windows", "onnxruntime", "onnxruntime.dll")]
    [InlineData("Windows", "torch_cpu.dll", "torch_cpu.dll")]
    [InlineData("Linux", "LibTorchSharp", "libLibTorchSharp.so|LibTorchSharp.so")]
    [InlineData("Linux", "libSkiaSharp", "libSkiaSharp.so|liblibSkiaSharp.so")]
    [InlineData("Linux", "onnxruntime", "libonnxruntime.so|onnxruntime.so")]
    [InlineData("Linux", "libgomp-98b21ff3.so.1", "libgomp-98b21ff3.so.1")]
    [InlineData("OSX", "LibTorchSharp", "libLibTorchSharp.dylib|LibTorchSharp.dylib")]
    [InlineData("OSX", "libSkiaSharp", "libSkiaSharp.dylib|liblibSkiaSharp.dylib")]
    [InlineData("OSX", "onnxruntime", "libonnxruntime.dylib|onnxruntime.dylib")]
    public void TurnsTheNameALibraryIsAskedForIntoThePlatformsFileNames(string os, string name, string files) =>
        Assert.Equal(files.Split('|'), NativePackage.LibraryFileNames(OSPlatform.Create(os.ToUpperInvariant()), name));

    [Fact]
    public void SearchesEveryPSModulePathEntryThenTheFolderTheModuleIsInstalledIn()
    {
        string home = Path.Combine(Path.GetTempPath(), "home");
        string user = Path.Combine(home, ".local/share/powershell/Modules");
        Assert.Equal(new[] { user, "/usr/local/share/powershell/Modules", Path.GetFullPath("/opt/modules") },
            NativePackage.ModuleRoots($"{user}:/usr/local/share/powershell/Modules:", ':', "/opt/modules/MlpTools/0.1.0"));
        // A development build imported by path: the module folder's parent; a root already listed is not repeated.
        Assert.Equal(new[] { Path.GetFullPath("/src/out") }, NativePackage.ModuleRoots(null, ':', "/src/out/MlpTools"));
        Assert.Equal(new[] { Path.GetFullPath("/m") }, NativePackage.ModuleRoots(Path.GetFullPath("/m"), ':', "/m/MlpTools/0.1.0/"));
        // Windows separates entries with ';'.
        Assert.Equal(new[] { @"C:\Users\me\Documents\PowerShell\Modules", @"C:\Program Files\PowerShell\Modules", Path.GetFullPath("/x") },
            NativePackage.ModuleRoots(@"C:\Users\me\Documents\PowerShell\Modules;C:\Program Files\PowerShell\Modules", ';', "/x/MlpTools/0.1.0"));
    }

    [Theory]
    [InlineData("0.1.0", "0.1.0", true)]
    [InlineData("0.1.0.3", "0.1.0", true)]
    [InlineData("0.1", "0.1.0", true)]
    [InlineData("0.1.1", "0.1.0", false)]
    [InlineData("0.2.0", "0.1.0", false)]
    [InlineData("1.1.0", "0.1.0", false)]
    public void APlatformPackageGoesWithTheModuleVersionItWasBuiltWith(string package, string module, bool compatible) =>
        Assert.Equal(compatible, NativePackage.IsCompatible(Version.Parse(package), Version.Parse(module)));

    [Theory]
    [InlineData("linux-x64", "libLibTorchSharp.so")]
    [InlineData("win-x64", "LibTorchSharp.dll")]
    [InlineData("osx-arm64", "libLibTorchSharp.dylib")]
    public void PicksTheHighestCompatibleInstalledPackageInAnyRoot(string runtimeId, string library)
    {
        using var folder = new TempFolder();
        string user = folder.File("user"), machine = folder.File("machine"), engine = folder.File("user/MlpTools/0.1.0/dependencies");
        Directory.CreateDirectory(engine);
        string Install(string root, string version, bool withLibrary = true)
        {
            string native = Path.Combine(root, $"MlpTools.Native.{runtimeId}", version, "native");
            Directory.CreateDirectory(native);
            if (withLibrary)
            {
                File.WriteAllBytes(Path.Combine(native, library), new byte[] { 1 });
            }
            return native;
        }
        var roots = new[] { user, machine };
        var version = new Version(0, 1, 0);

        Assert.Null(NativePackage.Locate(runtimeId, library, version, engine, roots));

        string machineFolder = Install(machine, "0.1.0");
        Assert.Equal(new NativeLocation(runtimeId, machineFolder, $"MlpTools.Native.{runtimeId}", "0.1.0"), NativePackage.Locate(runtimeId, library, version, engine, roots));

        // Same version in both scopes: the earlier PSModulePath entry (the user's) wins.
        string userFolder = Install(user, "0.1.0");
        Assert.Equal(userFolder, NativePackage.Locate(runtimeId, library, version, engine, roots)!.Folder);

        // An update left the old version and brought another: only a compatible one with its library counts, the highest first.
        Install(user, "0.2.0");
        Install(user, "0.1.0.2", withLibrary: false);
        Install(user, "not-a-version");
        string repacked = Install(machine, "0.1.0.1");
        Assert.Equal(new NativeLocation(runtimeId, repacked, $"MlpTools.Native.{runtimeId}", "0.1.0.1"), NativePackage.Locate(runtimeId, library, version, engine, roots));
        Assert.Equal("0.2.0", NativePackage.Locate(runtimeId, library, new Version(0, 2, 0), engine, roots)!.PackageVersion);

        // A development build (libraries next to the engine) needs no package and wins.
        File.WriteAllBytes(Path.Combine(engine, library), new byte[] { 1 });
        Assert.Equal(new NativeLocation(runtimeId, engine, null, null), NativePackage.Locate(runtimeId, library, version, engine, roots));
        Assert.False(NativePackage.Locate(runtimeId, library, version, engine, roots)!.IsPackage);
    }

    [Fact]
    public void WhenNothingIsInstalledSaysTheExactCommandOrThatThePlatformHasNoPackage()
    {
        string message = NativePackage.MissingMessage("win-x64", new Version(0, 1, 0), new[] { "/a", "/b" });
        Assert.Contains("Run: Install-PSResource MlpTools.Native.win-x64 -Version 0.1.0 ", message);
        Assert.EndsWith("Looked for MlpTools.Native.win-x64 0.1.0 in: /a, /b.", message);

        string unsupported = NativePackage.MissingMessage("linux-arm64", new Version(0, 1, 0), new[] { "/a" });
        Assert.DoesNotContain("Install-PSResource", unsupported);
        Assert.Contains("packages exist for linux-x64, win-x64, osx-arm64", unsupported);
        Assert.Contains("build.ps1 -Task Build", unsupported);
    }

    [Fact]
    public void ThisProcessUsesTheBuildsOwnLibrariesAndResolvesNamesThere()
    {
        NativeLocation location = NativeLibraries.EnsureInstalled();
        Assert.Equal(new NativeLocation(NativePackage.CurrentRuntimeId, NativeLibraries.EngineFolder, null, null), location);
        Assert.Null(NativeLibraries.MissingError);
        Assert.Equal(Path.Combine(location.Folder, NativePackage.TorchSharpLibraryFileName(NativePackage.CurrentOS)), NativeLibraries.Resolve("LibTorchSharp"));
        Assert.Equal(Path.Combine(location.Folder, NativePackage.LibraryFileNames(NativePackage.CurrentOS, "libSkiaSharp")[0]), NativeLibraries.Resolve("libSkiaSharp"));
        Assert.Null(NativeLibraries.Resolve("NoSuchLibrary"));
    }

    [Fact]
    public void OnWindowsNamesTheMissingVisualCppRuntimeAndItsFix()
    {
        using var system32 = new TempFolder();
        Assert.Equal(new[] { "vcruntime140.dll", "vcruntime140_1.dll", "msvcp140.dll" }, NativePackage.MissingVisualCppRuntime(system32.Path));
        system32.Write("vcruntime140.dll", new byte[] { 1 });

        var windows = EnvironmentReport.Collect("0.1.0", "7.6.9", OSPlatform.Windows, system32.Path);
        Assert.Equal(new[] { "vcruntime140_1.dll", "msvcp140.dll" }, windows.MissingVisualCppRuntime);
        Assert.True(windows.NativeLibraryLoaded, windows.NativeLoadError);
        Assert.Equal("The Visual C++ runtime that libtorch needs is missing (vcruntime140_1.dll, msvcp140.dll not in System32). " + NativePackage.VisualCppRuntimeFix,
            windows.Problems[0]);
        Assert.Contains("winget install Microsoft.VCRedist.2015+.x64", windows.Problems[0]);

        system32.Write("vcruntime140_1.dll", new byte[] { 1 });
        system32.Write("msvcp140.dll", new byte[] { 1 });
        Assert.Empty(EnvironmentReport.Collect("0.1.0", "7.6.9", OSPlatform.Windows, system32.Path).MissingVisualCppRuntime);
        Assert.Empty(EnvironmentReport.Collect("0.1.0", "7.6.9", OSPlatform.Linux, Path.Combine(system32.Path, "nothing")).MissingVisualCppRuntime);
    }
}
