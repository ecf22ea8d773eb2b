using MlpTools.Core.Data;
using MlpTools.Core.Imaging;
using MlpTools.Core.Training;
using SkiaSharp;
using Xunit;
using static MlpTools.Core.Tests.TestData;

namespace MlpTools.Core.Tests;

public class ImagingTests
{
    /// <summary>Three 2x3 images: all black, all white, and a gradient 0, 50, 100 / 150, 200, 250; labels 4, 7, 1.</summary>
    private static MlpDataset ThreeImages() => InMemory(2, 3,
        new byte[] { 0, 0, 0, 0, 0, 0, 255, 255, 255, 255, 255, 255, 0, 50, 100, 150, 200, 250 }, new byte[] { 4, 7, 1 });

    private static SKBitmap Decode(PngImage image) => SKBitmap.Decode(image.ToArray());

    [Theory]
    [InlineData(25, 5, 28, 28, 4, 620, 720)]
    [InlineData(3, 5, 28, 28, 4, 372, 144)] // one row, only as many columns as images
    [InlineData(7, 3, 2, 3, 10, 3 * (30 + 12), 3 * (20 + 20 + 12))]
    public void GridSizeFollowsColumnsScaleAndPadding(int count, int columns, int height, int width, int scale, int expectedWidth, int expectedHeight)
    {
        Assert.Equal((expectedWidth, expectedHeight), DigitGrid.Size(count, columns, height, width, scale));
    }

    [Fact]
    public void TilesAreTitledAsTheNotebookTitlesItsSubplots()
    {
        Assert.Equal("Pred:7, Label:7", new DigitTile(0, 7, 7).Title);
        Assert.Equal("Pred:8, Label:4", new DigitTile(0, 4, 8).Title);
        Assert.Equal("Label:4", new DigitTile(0, 4).Title);
        Assert.True(new DigitTile(0, 4, 8).Wrong);
        Assert.False(new DigitTile(0, 4, 4).Wrong);
        Assert.False(new DigitTile(0, 4).Wrong);
    }

    [Fact]
    public void GridDrawsEachPixelAsAScaledGraySquareUnderItsTitle()
    {
        var tiles = new[] { new DigitTile(2, 1, 1), new DigitTile(1, 7, 3) };

        PngImage image = DigitGrid.Render(ThreeImages(), tiles, columns: 2, scale: 10);

        Assert.Equal((2 * 42, 52), (image.Width, image.Height));
        using SKBitmap bitmap = Decode(image);
        Assert.Equal((image.Width, image.Height), (bitmap.Width, bitmap.Height));
        // Tile 0 (image 2): pixel (row r, column c) is the square from (6 + 10c, 26 + 10r); sample its centre.
        int[] gradient = { 0, 50, 100, 150, 200, 250 };
        for (int i = 0; i < 6; i++)
        {
            SKColor pixel = bitmap.GetPixel(DigitGrid.Padding + 10 * (i % 3) + 5, DigitGrid.Padding + DigitGrid.TitleHeight + 10 * (i / 3) + 5);
            Assert.Equal(new SKColor((byte)gradient[i], (byte)gradient[i], (byte)gradient[i]), pixel);
        }
        // Tile 1 (image 1) is white.
        Assert.Equal(SKColors.White, bitmap.GetPixel(42 + DigitGrid.Padding + 15, DigitGrid.Padding + DigitGrid.TitleHeight + 10));
    }

    [Fact]
    public void WrongPredictionsHaveRedTitlesAndFramesRightOnesBlackTitles()
    {
        // Scale 40: tiles 132 pixels wide, so the titles are drawn at full size.
        var tiles = new[] { new DigitTile(0, 4, 4), new DigitTile(0, 4, 9) };

        using SKBitmap bitmap = Decode(DigitGrid.Render(ThreeImages(), tiles, columns: 2, scale: 40));

        var (rightTitle, wrongTitle) = (TitleColours(bitmap, 0, 132), TitleColours(bitmap, 132, 132));
        Assert.Contains(rightTitle, IsDark);
        Assert.DoesNotContain(rightTitle, IsRed);
        Assert.Contains(wrongTitle, IsRed);
        Assert.DoesNotContain(wrongTitle, IsDark);
        // The frame: just outside the wrong tile's black image, red; the right tile has none.
        Assert.True(IsRed(bitmap.GetPixel(132 + DigitGrid.Padding - 1, DigitGrid.Padding + DigitGrid.TitleHeight + 10)));
        Assert.Equal(SKColors.White, bitmap.GetPixel(DigitGrid.Padding - 2, DigitGrid.Padding + DigitGrid.TitleHeight + 10));
    }

    [Fact]
    public void TheTitleStripChangesExactlyWhereThePredictionDoes()
    {
        var dataset = ThreeImages();
        using SKBitmap first = Decode(DigitGrid.Render(dataset, new[] { new DigitTile(0, 4, 4), new DigitTile(1, 7, 7) }, 2, 10));
        using SKBitmap second = Decode(DigitGrid.Render(dataset, new[] { new DigitTile(0, 4, 4), new DigitTile(1, 7, 2) }, 2, 10));

        Assert.True(Differs(first, second, 42, 84, 0, DigitGrid.Padding + DigitGrid.TitleHeight), "the second title should change");
        Assert.False(Differs(first, second, 0, 42, 0, first.Height), "the first tile should not change");
    }

    [Fact]
    public void GridRefusesImagesNotInTheDatasetOrWithAnotherLabel()
    {
        var dataset = ThreeImages();
        var outside = Fails("DatasetIndexOutOfRange", () => DigitGrid.Render(dataset, new[] { new DigitTile(3, 1, 1) }));
        Assert.Equal(3, outside.Target);
        var mismatch = Fails("PredictionDatasetMismatch", () => DigitGrid.Render(dataset, new[] { new DigitTile(0, 5, 5) }));
        Assert.Contains("labelled 4", mismatch.Message);
        Fails("ImageInputEmpty", () => DigitGrid.Render(dataset, Array.Empty<DigitTile>()));
    }

    [Fact]
    public void CurvesAndHeatmapHaveTheRequestedSize()
    {
        var points = Enumerable.Range(1, 4).Select(e => new EpochPoint("m", e, 1.0 / e, 0.5 + e / 10.0, e == 2 ? null : 0.4 + e / 10.0)).ToArray();
        PngImage curves = TrainingCurves.Render(points, 800, 300, "Title");
        PngImage heatmap = ConfusionHeatmap.Render(new ConfusionMatrix(2, new[] { 4, 2, 1, 3 }), "Two classes", 400, 360);

        using SKBitmap curvesBitmap = Decode(curves), heatmapBitmap = Decode(heatmap);
        Assert.Equal((800, 300), (curves.Width, curves.Height));
        Assert.Equal((800, 300), (curvesBitmap.Width, curvesBitmap.Height));
        Assert.Equal((400, 360), (heatmapBitmap.Width, heatmapBitmap.Height));
        // Both panels are drawn: each half of the picture has dark pixels (axes, text).
        Assert.True(Differs(curvesBitmap, Blank(800, 300), 0, 400, 0, 300));
        Assert.True(Differs(curvesBitmap, Blank(800, 300), 400, 800, 0, 300));
        Fails("ImageInputEmpty", () => TrainingCurves.Render(Array.Empty<EpochPoint>()));
    }

    [Fact]
    public void TheHeatmapDrawsABusyCellDarkBlue()
    {
        using SKBitmap bitmap = Decode(ConfusionHeatmap.Render(new ConfusionMatrix(2, new[] { 9, 0, 0, 0 }), "One cell", 400, 360));
        var colours = Enumerable.Range(0, bitmap.Width * bitmap.Height).Select(i => bitmap.GetPixel(i % bitmap.Width, i / bitmap.Width)).ToArray();
        Assert.Contains(colours, c => c.Blue > 60 && c.Red < 30 && c.Green < 60); // a dark blue cell
    }

    [Fact]
    public void SaveRefusesAnExistingFileAndReplacesItAtomicallyOnlyWhenAsked()
    {
        using var folder = new TempFolder();
        string path = folder.File("grid.png");
        File.WriteAllText(path, "old");
        PngImage image = DigitGrid.Render(ThreeImages(), new[] { new DigitTile(0, 4) }, 1, 1);

        Fails("ModelFileExists", () => image.Save(path));
        Assert.Equal("old", File.ReadAllText(path));
        image.Save(path, overwrite: true);

        byte[] written = File.ReadAllBytes(path);
        Assert.Equal(image.ToArray(), written);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }, written[..8]);
        Assert.Equal(new[] { "grid.png" }, Directory.GetFiles(folder.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void SaveNamesAMissingFolderOrAFolderInTheWay()
    {
        using var folder = new TempFolder();
        PngImage image = DigitGrid.Render(ThreeImages(), new[] { new DigitTile(0, 4) }, 1, 1);
        Fails("FolderNotFound", () => image.Save(Path.Combine(folder.Path, "missing", "grid.png")));
        Directory.CreateDirectory(folder.File("taken"));
        Fails("PathIsFolder", () => image.Save(folder.File("taken")));
    }

    [Fact]
    public void DigitTextDrawsEachPixelTwiceWithItsShade()
    {
        var dataset = ThreeImages();

        Assert.Equal("[2] Label:1\n  ░░▒▒\n▒▒▓▓██", DigitText.Render(dataset, new DigitTile(2, 1)));
        Assert.Equal("[1] Pred:3, Label:7 (wrong)\n██████\n██████", DigitText.Render(dataset, new DigitTile(1, 7, 3)));
        Assert.Equal(new[] { ' ', ' ', '░', '░', '▒', '▒', '▓', '▓', '█' }, new byte[] { 0, 31, 32, 95, 96, 159, 160, 223, 224 }.Select(DigitText.Shade));
    }

    private static bool IsRed(SKColor c) => c.Red > 150 && c.Green < 110 && c.Blue < 110;

    private static bool IsDark(SKColor c) => c.Red < 100 && c.Green < 100 && c.Blue < 100;

    private static SKColor[] TitleColours(SKBitmap bitmap, int left, int width) =>
        Enumerable.Range(left, width).SelectMany(x => Enumerable.Range(DigitGrid.Padding, DigitGrid.TitleHeight).Select(y => bitmap.GetPixel(x, y))).ToArray();

    private static SKBitmap Blank(int width, int height)
    {
        var bitmap = new SKBitmap(width, height);
        bitmap.Erase(SKColors.White);
        return bitmap;
    }

    private static bool Differs(SKBitmap a, SKBitmap b, int left, int right, int top, int bottom)
    {
        for (int y = top; y < bottom; y++)
        {
            for (int x = left; x < right; x++)
            {
                if (a.GetPixel(x, y) != b.GetPixel(x, y))
                {
                    return true;
                }
            }
        }
        return false;
    }
}
