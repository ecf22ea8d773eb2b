using System.Runtime.InteropServices;
using MlpTools.Core.Data;
using MlpTools.Core.Modeling;
using MlpTools.Core.Platform;

namespace MlpTools.Core.Diagnostics;

/// <summary>One split's files in the data folder: whether both are there and what their headers say.</summary>
public sealed record DataFolderSplit(string Split, bool Present, int? Count, int? ImageHeight, int? ImageWidth, string? ImagesFile, string? LabelsFile, string? Problem)
{
    public override string ToString() => Present ? $"{Split}: {Count} images of {ImageHeight}x{ImageWidth}" : $"{Split}: {Problem}";
}

/// <summary>
/// What a user (or whoever helps them) needs to know when MlpTools does not work: versions, the OS, whether the
/// native libraries load and why not, libtorch's threads, the compatibility fix, and the data folder's contents.
/// Collecting it never throws for a broken installation: a failure is what it reports.
/// </summary>
public sealed class EnvironmentReport
{
    /// <summary>The shared library the build adds next to libLibTorchSharp.so where libstdc++ lacks GLIBCXX_3.4.32.</summary>
    public const string CompatibilityShimName = "libmlptools_glibcxx_shim.so";

    public required string ModuleVersion { get; init; }
    public required string PowerShellVersion { get; init; }
    public required string DotNetVersion { get; init; }
    public required string OperatingSystem { get; init; }
    public required string Architecture { get; init; }
    public required string TorchSharpVersion { get; init; }
    /// <summary>The libtorch version; null when it did not load.</summary>
    public string? LibTorchVersion { get; init; }
    public required string NativeLibraryPath { get; init; }
    /// <summary>The platform the native libraries are for (linux-x64, win-x64, osx-arm64, ...).</summary>
    public required string RuntimeId { get; init; }
    /// <summary>Where the native libraries come from: Package (MlpTools.Native.&lt;rid&gt;), Development (a build's dependencies/ folder) or Missing.</summary>
    public required string NativeSource { get; init; }
    /// <summary>MlpTools.Native.&lt;rid&gt; when the libraries come from an installed platform package; null otherwise.</summary>
    public string? NativePackageName { get; init; }
    /// <summary>That package's version; null otherwise.</summary>
    public string? NativePackageVersion { get; init; }
    /// <summary>The folder the native libraries are loaded from; null when none was found.</summary>
    public string? NativeFolder { get; init; }
    /// <summary>On Windows, the Visual C++ runtime DLLs libtorch needs that System32 lacks; empty elsewhere and when all are there.</summary>
    public IReadOnlyList<string> MissingVisualCppRuntime { get; init; } = Array.Empty<string>();
    public bool NativeLibraryLoaded => NativeLoadError is null;
    /// <summary>Why libtorch did not load (the loader's own words, e.g. a missing GLIBCXX version or file); null when it did.</summary>
    public string? NativeLoadError { get; init; }
    /// <summary>Whether the build applied the libstdc++ compatibility fix (<see cref="CompatibilityShimName"/> next to the native library).</summary>
    public bool CompatibilityFixApplied { get; init; }
    /// <summary>libtorch's intra-op threads; null when it did not load.</summary>
    public int? TorchThreads { get; init; }
    public int ProcessorCount { get; init; }
    /// <summary>OMP_NUM_THREADS as it is now; libtorch read it once, when it loaded.</summary>
    public string? OmpNumThreads { get; init; }
    /// <summary>ONNX Runtime's version, which scores models imported from ONNX files; null when it did not load.</summary>
    public string? OnnxRuntimeVersion { get; init; }
    public bool OnnxRuntimeLoaded => OnnxRuntimeLoadError is null;
    /// <summary>Why ONNX Runtime did not load; null when it did.</summary>
    public string? OnnxRuntimeLoadError { get; init; }
    public required string SkiaSharpVersion { get; init; }
    public bool ImagingAvailable => ImagingError is null;
    /// <summary>Why pictures cannot be drawn; null when they can.</summary>
    public string? ImagingError { get; init; }
    public required string DataPath { get; init; }
    /// <summary>Where <see cref="DataPath"/> comes from: the MLPTOOLS_DATA environment variable or the per-user default.</summary>
    public required string DataPathSource { get; init; }
    public required IReadOnlyList<DataFolderSplit> Datasets { get; init; }

    /// <summary>True when training, prediction and pictures can all work (data aside: it can be downloaded).</summary>
    public bool Ready => NativeLibraryLoaded && ImagingAvailable && OnnxRuntimeLoaded;

    /// <summary>What is wrong, one line each, with what to do; empty when <see cref="Ready"/> and both splits are present.</summary>
    public IReadOnlyList<string> Problems
    {
        get
        {
            var problems = new List<string>();
            if (MissingVisualCppRuntime.Count > 0)
            {
                problems.Add($"The Visual C++ runtime that libtorch needs is missing ({string.Join(", ", MissingVisualCppRuntime)} not in System32). {NativePackage.VisualCppRuntimeFix}");
            }
            if (NativeLoadError is not null)
            {
                problems.Add(NativeLoadError);
            }
            if (ImagingError is not null)
            {
                problems.Add(ImagingError);
            }
            if (OnnxRuntimeLoadError is not null)
            {
                problems.Add(OnnxRuntimeLoadError);
            }
            foreach (DataFolderSplit split in Datasets.Where(d => !d.Present))
            {
                problems.Add($"MNIST {split.Split} is not in '{DataPath}': {split.Problem}. Run 'Get-MnistDataset -Download' to fetch it.");
            }
            return problems;
        }
    }

    /// <param name="moduleVersion">The module's version, which only the caller (the cmdlet) knows.</param>
    /// <param name="powerShellVersion">Likewise the host's PowerShell version.</param>
    public static EnvironmentReport Collect(string moduleVersion, string powerShellVersion) =>
        Collect(moduleVersion, powerShellVersion, NativePackage.CurrentOS, Environment.SystemDirectory);

    /// <param name="os">The OS whose prerequisites are checked: only Windows has one (the Visual C++ runtime).</param>
    /// <param name="systemFolder">Where Windows keeps that runtime (System32).</param>
    public static EnvironmentReport Collect(string moduleVersion, string powerShellVersion, OSPlatform os, string systemFolder)
    {
        NativeLocation? location = NativeLibraries.Location;
        string? nativeError = TorchRuntime.LoadError;
        string dataPath = MnistFiles.DefaultDataPath;
        return new EnvironmentReport
        {
            ModuleVersion = moduleVersion,
            PowerShellVersion = powerShellVersion,
            DotNetVersion = RuntimeInformation.FrameworkDescription,
            OperatingSystem = RuntimeInformation.OSDescription,
            Architecture = RuntimeInformation.ProcessArchitecture.ToString(),
            TorchSharpVersion = TorchRuntime.TorchSharpVersion,
            LibTorchVersion = nativeError is null ? TorchRuntime.LibTorchVersion : null,
            NativeLibraryPath = TorchRuntime.NativeLibraryPath,
            RuntimeId = NativePackage.CurrentRuntimeId,
            NativeSource = location is null ? "Missing" : location.IsPackage ? "Package" : "Development",
            NativePackageName = location?.PackageName,
            NativePackageVersion = location?.PackageVersion,
            NativeFolder = location?.Folder,
            MissingVisualCppRuntime = os == OSPlatform.Windows ? NativePackage.MissingVisualCppRuntime(systemFolder) : Array.Empty<string>(),
            NativeLoadError = nativeError,
            CompatibilityFixApplied = File.Exists(Path.Combine(TorchRuntime.NativeFolder, CompatibilityShimName)),
            TorchThreads = nativeError is null ? TorchRuntime.ThreadCount : null,
            ProcessorCount = Environment.ProcessorCount,
            OmpNumThreads = Environment.GetEnvironmentVariable("OMP_NUM_THREADS"),
            OnnxRuntimeVersion = OnnxRuntimeInfo.Version,
            OnnxRuntimeLoadError = OnnxRuntimeInfo.LoadError,
            SkiaSharpVersion = ImagingRuntime.SkiaSharpVersion,
            ImagingError = ImagingRuntime.LoadError,
            DataPath = dataPath,
            DataPathSource = string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(MnistFiles.DataPathVariable))
                ? "Default" : MnistFiles.DataPathVariable,
            Datasets = Enum.GetValues<MnistSplit>().Select(split => InspectSplit(dataPath, split)).ToArray(),
        };
    }

    /// <summary>Reads only the two files' headers: enough to tell what is there without loading 47 MB.</summary>
    public static DataFolderSplit InspectSplit(string folder, MnistSplit split)
    {
        var (imagesStem, labelsStem) = MnistFiles.FileStems(split);
        string? images = MnistFiles.TryFind(folder, imagesStem);
        string? labels = MnistFiles.TryFind(folder, labelsStem);
        string[] missing = new[] { (imagesStem, images), (labelsStem, labels) }.Where(f => f.Item2 is null).Select(f => f.Item1).ToArray();
        if (missing.Length > 0)
        {
            return new DataFolderSplit(split.ToString(), false, null, null, null, images, labels, $"missing {string.Join(" and ", missing)}");
        }
        try
        {
            int[] imageDimensions = IdxReader.ReadDimensions(images!, expectedDimensionCount: 3);
            int[] labelDimensions = IdxReader.ReadDimensions(labels!, expectedDimensionCount: 1);
            string? problem = imageDimensions[0] == labelDimensions[0] ? null
                : $"{imageDimensions[0]} images but {labelDimensions[0]} labels";
            return new DataFolderSplit(split.ToString(), problem is null, imageDimensions[0], imageDimensions[1], imageDimensions[2], images, labels, problem);
        }
        catch (Exception e) when (e is MlpToolsException or IOException or UnauthorizedAccessException)
        {
            string reason = e is MlpToolsException known ? $"{known.ErrorId}: {known.Message}" : e.Message;
            return new DataFolderSplit(split.ToString(), false, null, null, null, images, labels, reason);
        }
    }
}
