using MlpTools.Core.Data;
using MlpTools.Core.Diagnostics;
using Xunit;
using static MlpTools.Core.Tests.TestData;

namespace MlpTools.Core.Tests;

[Collection(DataPathEnvironmentCollection.Name)]
public class EnvironmentReportTests
{
    [Fact]
    public void AWorkingInstallationIsReadyAndSaysWhatItRunsOn()
    {
        var report = EnvironmentReport.Collect("1.2.3", "7.6.9");

        Assert.True(report.NativeLibraryLoaded, report.NativeLoadError);
        Assert.Null(report.NativeLoadError);
        Assert.True(report.ImagingAvailable, report.ImagingError);
        Assert.True(report.Ready);
        Assert.Equal(("1.2.3", "7.6.9"), (report.ModuleVersion, report.PowerShellVersion));
        Assert.Equal("0.107.0", report.TorchSharpVersion);
        Assert.StartsWith("2.10.0", report.LibTorchVersion);
        Assert.True(report.TorchThreads >= 1);
        Assert.Equal(Environment.ProcessorCount, report.ProcessorCount);
        Assert.EndsWith(OperatingSystem.IsLinux() ? "libLibTorchSharp.so" : "LibTorchSharp.dll", report.NativeLibraryPath.Replace(".dylib", ".so"));
        Assert.Equal(File.Exists(Path.Combine(Path.GetDirectoryName(report.NativeLibraryPath)!, EnvironmentReport.CompatibilityShimName)), report.CompatibilityFixApplied);
        Assert.StartsWith("3.119", report.SkiaSharpVersion);
        Assert.Equal(new[] { "Train", "Test" }, report.Datasets.Select(d => d.Split));
    }

    [Fact]
    public void ReadsOnlyTheHeadersOfACompleteSplit()
    {
        using var folder = new TempFolder();
        WriteSplit(folder.Path, MnistSplit.Test, 2, 3, new byte[4 * 6], new byte[] { 0, 1, 2, 3 }, gzip: true);

        var split = EnvironmentReport.InspectSplit(folder.Path, MnistSplit.Test);

        Assert.Equal(new DataFolderSplit("Test", true, 4, 2, 3, folder.File("t10k-images-idx3-ubyte.gz"), folder.File("t10k-labels-idx1-ubyte.gz"), null), split);
        Assert.Equal("Test: 4 images of 2x3", split.ToString());
    }

    [Fact]
    public void NamesWhatIsMissingOrWrong()
    {
        using var folder = new TempFolder();
        var missing = EnvironmentReport.InspectSplit(folder.Path, MnistSplit.Train);
        Assert.False(missing.Present);
        Assert.Equal("missing train-images-idx3-ubyte and train-labels-idx1-ubyte", missing.Problem);
        Assert.Equal("Train: missing train-images-idx3-ubyte and train-labels-idx1-ubyte", missing.ToString());

        WriteIdx(folder.File("train-images-idx3-ubyte"), new[] { 3, 2, 2 }, new byte[12]);
        WriteIdx(folder.File("train-labels-idx1-ubyte"), new[] { 2 }, new byte[2]);
        var mismatched = EnvironmentReport.InspectSplit(folder.Path, MnistSplit.Train);
        Assert.False(mismatched.Present);
        Assert.Equal("3 images but 2 labels", mismatched.Problem);

        folder.Write("t10k-images-idx3-ubyte", new byte[] { 1, 2, 3, 4, 5, 6, 7, 8 });
        WriteIdx(folder.File("t10k-labels-idx1-ubyte"), new[] { 2 }, new byte[2]);
        var damaged = EnvironmentReport.InspectSplit(folder.Path, MnistSplit.Test);
        Assert.False(damaged.Present);
        Assert.StartsWith("IdxHeaderInvalid: ", damaged.Problem);
    }

    [Fact]
    public void ListsEachMissingSplitAsAProblemWithWhatToDo()
    {
        using var folder = new TempFolder();
        string? before = Environment.GetEnvironmentVariable(MnistFiles.DataPathVariable);
        try
        {
            Environment.SetEnvironmentVariable(MnistFiles.DataPathVariable, folder.Path);
            var report = EnvironmentReport.Collect("0", "0");

            Assert.Equal((folder.Path, "MLPTOOLS_DATA"), (report.DataPath, report.DataPathSource));
            Assert.True(report.Ready); // data can be downloaded; the engine works
            Assert.Equal(2, report.Problems.Count);
            Assert.All(report.Problems, p => Assert.Contains("Get-MnistDataset -Download", p));
        }
        finally
        {
            Environment.SetEnvironmentVariable(MnistFiles.DataPathVariable, before);
        }
    }
}
