using MlpTools.Core.Data.Images;
using MlpTools.Core.Platform;
using SkiaSharp;
using Xunit;
using static MlpTools.Core.Tests.TestData;

namespace MlpTools.Core.Tests;

public class ImageFolderReaderTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    /// <summary>A 4x4 image of one dark gray level, so each file's pixels say which file it was.</summary>
    private string WriteSolid(string relativePath, byte gray, SKEncodedImageFormat format = SKEncodedImageFormat.Png) =>
        _temp.Write(relativePath, TestImages.Encode(4, 4, (_, _) => new SKColor(gray, gray, gray), format));

    private ImageFolderData Read(int height = 2, int width = 2, IProgress<double>? progress = null, CancellationToken cancel = default) =>
        ImageFolderReader.Read(_temp.Path, height, width, progress, cancel);

    [Fact]
    public void ClassesAreSubfoldersInOrdinalOrderAndFilesAreOrdinalWithinEach()
    {
        WriteSolid("b/10.png", 10);
        WriteSolid("b/2.PNG", 20);
        WriteSolid("a/x.jpg", 30, SKEncodedImageFormat.Jpeg);
        WriteSolid("a/nested/y.png", 40);
        WriteSolid("a/w.png", 50);
        WriteSolid("C/z.JPEG", 60, SKEncodedImageFormat.Jpeg);
        _temp.Write("a/notes.txt", "not an image"u8.ToArray());
        _temp.Write("b/scan.bmp", new byte[10]);
        // Hidden files and folders (a notebook's checkpoints, a Mac's resource forks) are no part of the dataset.
        WriteSolid("a/.hidden.png", 99);
        WriteSolid(".ipynb_checkpoints/q.png", 99);
        WriteSolid("b/.thumbnails/t.png", 99);
        WriteSolid("loose.png", 99); // not in a class folder

        ImageFolderData data = Read();

        Assert.Equal(new[] { "C", "a", "b" }, data.ClassNames);
        string[] expected = { "C/z.JPEG", "a/w.png", "a/x.jpg", "a/nested/y.png", "b/10.png", "b/2.PNG" };
        Assert.Equal(expected.Select(_temp.File), data.Files);
        Assert.Equal(new[] { 0, 1, 1, 1, 2, 2 }, data.LabelIndices);
        Assert.Equal(new[] { "a/notes.txt", "b/scan.bmp" }.Select(_temp.File), data.SkippedFiles);
        Assert.Equal((2, 2), (data.Height, data.Width));
        byte[] levels = data.Pixels.Where((_, i) => i % 4 == 0).ToArray();
        Assert.Equal(new byte[] { 60, 50, 30, 40, 10, 20 }, levels.Select(v => (byte)(Math.Round(v / 10.0) * 10))); // JPEG may be off by a little
        Assert.Equal(new byte[] { 50, 50, 50, 50, 40, 40, 40, 40 }, data.Pixels[4..8].Concat(data.Pixels[12..16])); // PNGs exactly
    }

    [Fact]
    public void ImagesAreResizedAndInvertedLikeAnyOtherRead()
    {
        string path = _temp.Write("digits/one.png", TestImages.Encode(6, 9, (x, y) => x == 3 ? SKColors.Black : SKColors.White));
        ImageFolderData data = Read(5, 7);
        Assert.Equal(ImageFiles.Read(path, 5, 7, ImagePreparation.Resize), data.Pixels);
        // The black line at column 3 of 6, inverted, lands between new columns 3 and 4 of 7 (centres at 2.5 and 3.36 old columns).
        Assert.Equal(Enumerable.Repeat(new byte[] { 0, 0, 0, 128, 164, 0, 0 }, 5).SelectMany(row => row), data.Pixels);
    }

    [Fact]
    public void ProgressIsTheFractionOfFilesDone()
    {
        for (int i = 0; i < 4; i++)
        {
            WriteSolid($"k{i % 2}/{i}.png", 1);
        }
        var progress = new SyncProgress<double>();
        Read(progress: progress);
        Assert.Equal(new[] { 0.25, 0.5, 0.75, 1.0 }, progress.Reports);
    }

    [Fact]
    public void CancellingStopsBetweenFiles()
    {
        for (int i = 0; i < 4; i++)
        {
            WriteSolid($"k{i % 2}/{i}.png", 1);
        }
        using var cancel = new CancellationTokenSource();
        var progress = new SyncProgress<double>(fraction => { if (fraction >= 0.5) cancel.Cancel(); });
        Assert.Throws<OperationCanceledException>(() => Read(progress: progress, cancel: cancel.Token));
        Assert.Equal(new[] { 0.25, 0.5 }, progress.Reports);
    }

    [Fact]
    public void AMissingFolderOrAFileIsFolderNotFound()
    {
        string missing = _temp.File("nothing-here");
        var error = Fails("FolderNotFound", () => ImageFolderReader.Read(missing, 28, 28, null, default));
        Assert.Equal((missing, FailureKind.ObjectNotFound), (error.Target, error.Kind));
        string file = WriteSolid("file.png", 1);
        Assert.Contains("is a file", Fails("FolderNotFound", () => ImageFolderReader.Read(file, 28, 28, null, default)).Message);
    }

    [Fact]
    public void AFolderWithoutClassFoldersOrImagesIsImageFolderEmpty()
    {
        Assert.Equal(_temp.Path, Fails("ImageFolderEmpty", () => Read()).Target);
        WriteSolid("1.png", 1);
        WriteSolid("2.png", 1);
        Assert.Contains("only 2 image(s) directly in it", Fails("ImageFolderEmpty", () => Read()).Message);
        _temp.Write("cats/readme.txt", new byte[1]);
        WriteSolid("dogs/.hidden.png", 1);
        var error = Fails("ImageFolderEmpty", () => Read());
        Assert.Contains("2 subfolder(s) but no PNG or JPEG file", error.Message);
        Assert.Equal(FailureKind.InvalidData, error.Kind);
    }

    [Fact]
    public void AClassFolderWithoutImagesIsImageFolderClassEmpty()
    {
        WriteSolid("cats/1.png", 1);
        _temp.Write("dogs/readme.txt", new byte[1]);
        Directory.CreateDirectory(_temp.File("emus"));
        var error = Fails("ImageFolderClassEmpty", () => Read());
        Assert.Equal((_temp.File("dogs"), FailureKind.InvalidData), (error.Target, error.Kind));
        Assert.Contains(_temp.File("emus"), error.Message);
    }

    [Fact]
    public void ADamagedImageStopsTheReadAndNamesTheFile()
    {
        WriteSolid("a/1.png", 1);
        string damaged = _temp.Write("b/2.png", "not a PNG"u8.ToArray());
        var progress = new SyncProgress<double>();
        Assert.Equal(damaged, Fails("ImageFileInvalid", () => Read(progress: progress)).Target);
        Assert.Equal(new[] { 0.5 }, progress.Reports);
    }

    [Fact]
    public void MoreImagesThanADatasetHoldsIsRefusedBeforeDecodingAny()
    {
        // 128 images of 4096x4096 are 2^31 bytes. The files are empty: decoding any would be ImageFileInvalid.
        for (int i = 0; i < 128; i++)
        {
            _temp.Write($"c/{i}.png", Array.Empty<byte>());
        }
        var progress = new SyncProgress<double>();
        var error = Fails("ImageFolderTooLarge", () => Read(4096, 4096, progress));
        Assert.Equal((_temp.Path, FailureKind.InvalidArgument), (error.Target, error.Kind));
        Assert.Empty(progress.Reports);
    }

    [Theory]
    [InlineData(0, 28)]
    [InlineData(28, 4097)]
    public void AnImpossibleSizeIsImageSizeInvalidBeforeTheFolderIsLookedAt(int height, int width)
    {
        Fails("ImageSizeInvalid", () => ImageFolderReader.Read(_temp.File("missing"), height, width, null, default));
    }
}
