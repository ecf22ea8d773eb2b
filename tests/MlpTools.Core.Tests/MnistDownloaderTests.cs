using MlpTools.Core.Data;
using MlpTools.Core.Platform;
using Xunit;
using static MlpTools.Core.Tests.TestData;

namespace MlpTools.Core.Tests;

/// <summary>Downloads from file:// mirrors in a temp folder: no network.</summary>
[Collection(DataPathEnvironmentCollection.Name)]
public class MnistDownloaderTests : IDisposable
{
    private const string Stem = "t10k-labels-idx1-ubyte";

    private readonly TempFolder _temp = new();
    private readonly MnistDownloader _downloader = new(TimeSpan.FromSeconds(10));

    public void Dispose()
    {
        _downloader.Dispose();
        _temp.Dispose();
    }

    private string Target => _temp.File("target");

    private (string Folder, Uri Uri) Mirror(string name)
    {
        string folder = _temp.File(name);
        Directory.CreateDirectory(folder);
        return (folder, new Uri(folder + "/"));
    }

    /// <summary>The real MNIST t10k labels file, which build.ps1's Data task puts in the data folder before tests run.</summary>
    private static byte[] RealTestLabels()
    {
        string path = Path.Combine(MnistFiles.DefaultDataPath, Stem);
        Assert.True(File.Exists(path), $"'{path}' is missing: run 'dotnet pwsh ./build.ps1 -Task Data' first.");
        byte[] bytes = File.ReadAllBytes(path);
        Assert.Equal(10008, bytes.Length);
        return bytes;
    }

    [Fact]
    public void DownloadsAVerifiedGzipFileFromAFileMirrorAndStoresItUncompressed()
    {
        byte[] original = RealTestLabels();
        var (mirrorFolder, mirror) = Mirror("mirror");
        File.WriteAllBytes(Path.Combine(mirrorFolder, Stem + ".gz"), Gzip(original));

        Uri source = _downloader.Download(Stem, Target, new[] { mirror }, CancellationToken.None);

        Assert.Equal(new Uri(mirror, Stem + ".gz"), source);
        Assert.Equal(new[] { Path.Combine(Target, Stem) }, Directory.GetFileSystemEntries(Target));
        Assert.Equal(original, File.ReadAllBytes(Path.Combine(Target, Stem)));
    }

    [Fact]
    public void DownloadsAnUncompressedFileWhenTheMirrorHasNoGzip()
    {
        byte[] original = RealTestLabels();
        var (mirrorFolder, mirror) = Mirror("mirror");
        File.WriteAllBytes(Path.Combine(mirrorFolder, Stem), original);

        Uri source = _downloader.Download(Stem, Target, new[] { mirror }, CancellationToken.None);

        Assert.Equal(new Uri(mirror, Stem), source);
        Assert.Equal(original, File.ReadAllBytes(Path.Combine(Target, Stem)));
    }

    [Fact]
    public void FallsBackToTheNextMirrorAndAcceptsAMirrorWithoutATrailingSlash()
    {
        byte[] original = RealTestLabels();
        var (_, empty) = Mirror("empty");
        var (secondFolder, _) = Mirror("second");
        File.WriteAllBytes(Path.Combine(secondFolder, Stem + ".gz"), Gzip(original));
        var second = new Uri(secondFolder); // no trailing slash

        Uri source = _downloader.Download(Stem, Target, new[] { empty, second }, CancellationToken.None);

        Assert.Equal(new Uri(secondFolder + "/" + Stem + ".gz"), source);
        Assert.Equal(original, File.ReadAllBytes(Path.Combine(Target, Stem)));
    }

    [Fact]
    public void ReplacesAnExistingFileWithTheVerifiedDownload()
    {
        byte[] original = RealTestLabels();
        var (mirrorFolder, mirror) = Mirror("mirror");
        File.WriteAllBytes(Path.Combine(mirrorFolder, Stem + ".gz"), Gzip(original));
        Directory.CreateDirectory(Target);
        File.WriteAllBytes(Path.Combine(Target, Stem), new byte[] { 1, 2, 3 });

        _downloader.Download(Stem, Target, new[] { mirror }, CancellationToken.None);

        Assert.Equal(original, File.ReadAllBytes(Path.Combine(Target, Stem)));
        Assert.Single(Directory.GetFileSystemEntries(Target));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AFileWhoseHashDoesNotMatchIsRefusedAndNothingIsLeftBehind(bool gzip)
    {
        // A well-formed labels file, but not MNIST's: its SHA-256 differs from the pinned one.
        byte[] impostor = Idx(new[] { 4 }, new byte[] { 7, 7, 7, 7 });
        var (mirrorFolder, mirror) = Mirror("mirror");
        File.WriteAllBytes(Path.Combine(mirrorFolder, gzip ? Stem + ".gz" : Stem), gzip ? Gzip(impostor) : impostor);

        var error = Fails("MnistDownloadFailed", () => _downloader.Download(Stem, Target, new[] { mirror }, CancellationToken.None));

        Assert.Equal(FailureKind.ConnectionError, error.Kind);
        Assert.Equal(Stem, error.Target);
        Assert.Contains($"does not match the pinned {MnistFiles.MnistSha256[Stem]}", error.Message);
        Assert.Empty(Directory.GetFileSystemEntries(Target));
    }

    [Fact]
    public void ARefusedDownloadLeavesAnExistingFileUntouched()
    {
        var (mirrorFolder, mirror) = Mirror("mirror");
        File.WriteAllBytes(Path.Combine(mirrorFolder, Stem + ".gz"), Gzip(Idx(new[] { 1 }, new byte[] { 5 })));
        Directory.CreateDirectory(Target);
        byte[] existing = { 9, 8, 7 };
        File.WriteAllBytes(Path.Combine(Target, Stem), existing);

        Fails("MnistDownloadFailed", () => _downloader.Download(Stem, Target, new[] { mirror }, CancellationToken.None));

        Assert.Equal(existing, File.ReadAllBytes(Path.Combine(Target, Stem)));
        Assert.Single(Directory.GetFileSystemEntries(Target));
    }

    [Fact]
    public void ACorruptGzipIsRefusedAndNothingIsLeftBehind()
    {
        var (mirrorFolder, mirror) = Mirror("mirror");
        File.WriteAllBytes(Path.Combine(mirrorFolder, Stem + ".gz"), new byte[] { 0x1f, 0x8b, 0xff, 0xff, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 });

        Fails("MnistDownloadFailed", () => _downloader.Download(Stem, Target, new[] { mirror }, CancellationToken.None));

        Assert.Empty(Directory.GetFileSystemEntries(Target));
    }

    [Fact]
    public void AFileMissingFromEveryMirrorFailsAndNamesEachAttempt()
    {
        var (_, first) = Mirror("first");
        var (_, second) = Mirror("second");

        var error = Fails("MnistDownloadFailed", () => _downloader.Download(Stem, Target, new[] { first, second }, CancellationToken.None));

        foreach (Uri mirror in new[] { first, second })
        {
            Assert.Contains(new Uri(mirror, Stem + ".gz").ToString(), error.Message);
            Assert.Contains(new Uri(mirror, Stem).ToString() + ":", error.Message);
        }
        Assert.Empty(Directory.GetFileSystemEntries(Target));
    }

    [Fact]
    public void ACancelledDownloadThrowsAndLeavesNothingBehind()
    {
        byte[] original = RealTestLabels();
        var (mirrorFolder, mirror) = Mirror("mirror");
        File.WriteAllBytes(Path.Combine(mirrorFolder, Stem + ".gz"), Gzip(original));

        Assert.ThrowsAny<OperationCanceledException>(() => _downloader.Download(Stem, Target, new[] { mirror }, new CancellationToken(canceled: true)));

        Assert.Empty(Directory.GetFileSystemEntries(Target));
    }

    [Fact]
    public void MissingFilesListsTheSplitsFilesNotInTheFolder()
    {
        Assert.Equal(new[] { "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte" }, MnistDownloader.MissingFiles(_temp.Path, MnistSplit.Test, force: false));

        _temp.Write("train-labels-idx1-ubyte", new byte[] { 1 });
        Assert.Equal(new[] { "train-images-idx3-ubyte" }, MnistDownloader.MissingFiles(_temp.Path, MnistSplit.Train, force: false));
        Assert.Equal(new[] { "train-images-idx3-ubyte", "train-labels-idx1-ubyte" }, MnistDownloader.MissingFiles(_temp.Path, MnistSplit.Train, force: true));
    }

    [Fact]
    public void PinnedHashesCoverEveryMnistFile()
    {
        foreach (MnistSplit split in Enum.GetValues<MnistSplit>())
        {
            var (images, labels) = MnistFiles.FileStems(split);
            Assert.Matches("^[0-9a-f]{64}$", MnistFiles.MnistSha256[images]);
            Assert.Matches("^[0-9a-f]{64}$", MnistFiles.MnistSha256[labels]);
        }
        Assert.Equal(4, MnistFiles.MnistSha256.Count);
    }
}
