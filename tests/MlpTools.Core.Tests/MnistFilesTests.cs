using MlpTools.Core.Data;
using MlpTools.Core.Platform;
using Xunit;
using static MlpTools.Core.Tests.TestData;

namespace MlpTools.Core.Tests;

/// <summary>Tests that read or change MLPTOOLS_DATA run one at a time.</summary>
[CollectionDefinition(Name)]
public sealed class DataPathEnvironmentCollection
{
    public const string Name = "MLPTOOLS_DATA environment";
}

[Collection(DataPathEnvironmentCollection.Name)]
public class MnistFilesTests : IDisposable
{
    // Three 3x5 images (height 3, width 5) labelled 2, 0, 1.
    private static readonly byte[] Pixels = Enumerable.Range(0, 3 * 15).Select(i => (byte)(i * 5)).ToArray();
    private static readonly byte[] Labels = { 2, 0, 1 };

    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void LoadsATestSplitFromAFolder()
    {
        WriteSplit(_temp.Path, MnistSplit.Test, 3, 5, Pixels, Labels);

        var dataset = MnistFiles.Load(_temp.Path, MnistSplit.Test);

        Assert.Equal("MNIST", dataset.Name);
        Assert.Equal("Test", dataset.Split);
        Assert.Equal(3, dataset.Count);
        Assert.Equal(3, dataset.ImageHeight);
        Assert.Equal(5, dataset.ImageWidth);
        Assert.Equal(15, dataset.ImageSize);
        Assert.Equal(3, dataset.ClassCount);
        Assert.Equal(new[] { 2, 0, 1 }, Enumerable.Range(0, 3).Select(dataset.GetLabel));
        Assert.Equal(Pixels[15..30], dataset.GetImage(1).ToArray());
        Assert.Equal(Path.GetFullPath(_temp.Path), dataset.Source);
        Assert.Equal("MNIST Test (3 images of 3x5, 3 classes)", dataset.ToString());
    }

    [Fact]
    public void LoadsTheTrainSplitFromTheTrainFiles()
    {
        WriteSplit(_temp.Path, MnistSplit.Test, 3, 5, Pixels, Labels);
        WriteSplit(_temp.Path, MnistSplit.Train, 2, 2, new byte[] { 1, 2, 3, 4, 5, 6, 7, 8 }, new byte[] { 0, 4 });

        var dataset = MnistFiles.Load(_temp.Path, MnistSplit.Train, "mine");

        Assert.Equal("mine", dataset.Name);
        Assert.Equal("Train", dataset.Split);
        Assert.Equal(2, dataset.Count);
        Assert.Equal(4, dataset.ImageSize);
        Assert.Equal(5, dataset.ClassCount);
        Assert.Equal(new byte[] { 5, 6, 7, 8 }, dataset.GetImage(1).ToArray());
    }

    [Fact]
    public void LoadsGzipFilesFromAFolder()
    {
        WriteSplit(_temp.Path, MnistSplit.Test, 3, 5, Pixels, Labels, gzip: true);
        Assert.False(File.Exists(_temp.File("t10k-images-idx3-ubyte")));

        var dataset = MnistFiles.Load(_temp.Path, MnistSplit.Test);

        Assert.Equal(3, dataset.Count);
        Assert.Equal(Pixels[30..45], dataset.GetImage(2).ToArray());
        Assert.Equal(1, dataset.GetLabel(2));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void LoadsATorchvisionStyleMnistRawFolder(bool gzip)
    {
        string raw = Path.Combine(_temp.Path, "MNIST", "raw");
        WriteSplit(raw, MnistSplit.Test, 3, 5, Pixels, Labels, gzip);

        var dataset = MnistFiles.Load(_temp.Path, MnistSplit.Test);

        Assert.Equal(3, dataset.Count);
        Assert.Equal(Pixels[..15], dataset.GetImage(0).ToArray());
        Assert.Equal(Path.GetFullPath(raw), dataset.Source);
    }

    [Fact]
    public void LoadsARawSubfolder()
    {
        string raw = Path.Combine(_temp.Path, "raw");
        WriteSplit(raw, MnistSplit.Test, 3, 5, Pixels, Labels);
        Assert.Equal(3, MnistFiles.Load(_temp.Path, MnistSplit.Test).Count);
    }

    [Fact]
    public void PrefersTheUncompressedFileWhenBothAreThere()
    {
        WriteSplit(_temp.Path, MnistSplit.Test, 3, 5, Pixels, Labels);
        WriteIdx(_temp.File("t10k-labels-idx1-ubyte.gz"), new[] { 3 }, new byte[] { 9, 9, 9 }, gzip: true);

        var dataset = MnistFiles.Load(_temp.Path, MnistSplit.Test);

        Assert.Equal(2, dataset.GetLabel(0));
        Assert.Equal(3, dataset.ClassCount);
    }

    [Fact]
    public void AMissingLabelsFileIsNotFoundAndTheMessageNamesItAndEveryFolderSearched()
    {
        var (imagesStem, labelsStem) = MnistFiles.FileStems(MnistSplit.Test);
        WriteIdx(_temp.File(imagesStem), new[] { 3, 3, 5 }, Pixels);

        var error = Fails("MnistFileNotFound", () => MnistFiles.Load(_temp.Path, MnistSplit.Test));

        Assert.Equal(FailureKind.ObjectNotFound, error.Kind);
        Assert.Contains($"'{labelsStem}'", error.Message);
        Assert.Contains($"'{labelsStem}.gz'", error.Message);
        Assert.Contains($"'{_temp.Path}'", error.Message);
        Assert.Contains($"'{Path.Combine(_temp.Path, "MNIST", "raw")}'", error.Message);
        Assert.Contains($"'{Path.Combine(_temp.Path, "raw")}'", error.Message);
        Assert.Contains(MnistFiles.DataPathVariable, error.Message);
        Assert.DoesNotContain(imagesStem, error.Message);
    }

    [Fact]
    public void AnEmptyFolderReportsTheImagesFileMissing()
    {
        var error = Fails("MnistFileNotFound", () => MnistFiles.Load(_temp.Path, MnistSplit.Train));
        Assert.Contains("'train-images-idx3-ubyte'", error.Message);
    }

    [Fact]
    public void ImagesAndLabelsOfDifferentCountsAreACountMismatch()
    {
        var (imagesStem, labelsStem) = MnistFiles.FileStems(MnistSplit.Test);
        WriteIdx(_temp.File(imagesStem), new[] { 3, 3, 5 }, Pixels);
        WriteIdx(_temp.File(labelsStem), new[] { 2 }, new byte[] { 0, 1 });

        var error = Fails("DatasetCountMismatch", () => MnistFiles.Load(_temp.Path, MnistSplit.Test));

        Assert.Contains("holds 3 images", error.Message);
        Assert.Contains("holds 2 labels", error.Message);
    }

    [Fact]
    public void SwappedImagesAndLabelsFilesAreAnInvalidHeader()
    {
        var (imagesStem, labelsStem) = MnistFiles.FileStems(MnistSplit.Test);
        WriteIdx(_temp.File(imagesStem), new[] { 3 }, Labels);
        WriteIdx(_temp.File(labelsStem), new[] { 3, 3, 5 }, Pixels);

        Fails("IdxHeaderInvalid", () => MnistFiles.Load(_temp.Path, MnistSplit.Test));
    }

    [Fact]
    public void LoadsFromExplicitPathsWithTheGivenNameAndSplit()
    {
        string images = WriteIdx(_temp.File("a/imgs.idx"), new[] { 3, 3, 5 }, Pixels);
        string labels = WriteIdx(_temp.File("b/lbls.idx.gz"), new[] { 3 }, Labels, gzip: true);

        var dataset = MnistFiles.Load(images, labels, "custom", "Validation");

        Assert.Equal("custom", dataset.Name);
        Assert.Equal("Validation", dataset.Split);
        Assert.Equal(3, dataset.Count);
        Assert.Equal(Path.GetFullPath(_temp.File("a")), dataset.Source);
    }

    [Theory]
    [InlineData(new byte[] { 0, 1, 2 }, 3)]
    [InlineData(new byte[] { 0, 7, 0 }, 8)]
    [InlineData(new byte[] { 4, 4, 4 }, 5)]
    [InlineData(new byte[] { 255, 0, 1 }, 256)]
    public void ClassCountIsTheLargestLabelPlusOne(byte[] labels, int classCount)
    {
        WriteSplit(_temp.Path, MnistSplit.Test, 3, 5, Pixels, labels);
        Assert.Equal(classCount, MnistFiles.Load(_temp.Path, MnistSplit.Test).ClassCount);
    }

    [Fact]
    public void ADatasetWithoutImagesHasNoClasses()
    {
        WriteSplit(_temp.Path, MnistSplit.Test, 2, 2, Array.Empty<byte>(), Array.Empty<byte>());
        var dataset = MnistFiles.Load(_temp.Path, MnistSplit.Test);
        Assert.Equal(0, dataset.Count);
        Assert.Equal(0, dataset.ClassCount);
    }

    [Fact]
    public void AnImagesHeaderWithHugeDimensionsAndNoImagesFailsAsAnMlpToolsError()
    {
        // 0 x 65536 x 65536 is 0 bytes, so the reader accepts it; the image size 65536*65536 overflows an int.
        var (imagesStem, labelsStem) = MnistFiles.FileStems(MnistSplit.Test);
        _temp.Write(imagesStem, IdxHeader(0x08, 0, 65536, 65536));
        WriteIdx(_temp.File(labelsStem), new[] { 0 }, Array.Empty<byte>());

        var error = Record.Exception(() => MnistFiles.Load(_temp.Path, MnistSplit.Test));

        Assert.IsType<MlpToolsException>(error);
    }

    [Fact]
    public void ADatasetWhosePixelsDoNotMatchItsLabelsIsACountMismatch()
    {
        var error = Fails("DatasetCountMismatch", () => InMemory(2, 2, new byte[7], new byte[2], "odd"));
        Assert.Contains("'odd'", error.Message);
    }

    [Fact]
    public void FileStemsAreTheMnistNames()
    {
        Assert.Equal(("train-images-idx3-ubyte", "train-labels-idx1-ubyte"), MnistFiles.FileStems(MnistSplit.Train));
        Assert.Equal(("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"), MnistFiles.FileStems(MnistSplit.Test));
    }

    [Fact]
    public void DefaultDataPathHonoursTheEnvironmentVariable()
    {
        string? saved = Environment.GetEnvironmentVariable(MnistFiles.DataPathVariable);
        try
        {
            string perUser = Path.Combine(
                Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.DoNotVerify), "MlpTools", "mnist");

            Environment.SetEnvironmentVariable(MnistFiles.DataPathVariable, _temp.Path);
            Assert.Equal(_temp.Path, MnistFiles.DefaultDataPath);

            Environment.SetEnvironmentVariable(MnistFiles.DataPathVariable, "   ");
            Assert.Equal(perUser, MnistFiles.DefaultDataPath);

            Environment.SetEnvironmentVariable(MnistFiles.DataPathVariable, null);
            Assert.Equal(perUser, MnistFiles.DefaultDataPath);
        }
        finally
        {
            Environment.SetEnvironmentVariable(MnistFiles.DataPathVariable, saved);
        }
        Assert.Equal(saved, Environment.GetEnvironmentVariable(MnistFiles.DataPathVariable));
    }
}
