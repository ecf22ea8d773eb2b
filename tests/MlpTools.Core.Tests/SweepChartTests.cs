using MlpTools.Core.Imaging;
using SkiaSharp;
using Xunit;
using static MlpTools.Core.Tests.TestData;

namespace MlpTools.Core.Tests;

/// <summary>The sweep chart: its layout, the best trial it marks, how it lays a parameter's values out, and where the marks land.</summary>
public class SweepChartTests
{
    private static SweepPoint Trial(int number, double? accuracy, double? rmse, double? loss, params (string Name, object Value)[] parameters) =>
        new(number, accuracy, rmse, parameters.ToDictionary(p => p.Name, p => p.Value)) { ValidationLoss = loss };

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(2, 2, 1)]
    [InlineData(3, 2, 2)]
    [InlineData(4, 2, 2)]
    [InlineData(5, 3, 2)]
    [InlineData(7, 3, 3)]
    public void ChartsGoSideBySideUpToTwoThenTwoOrThreeToARow(int panels, int columns, int rows)
    {
        Assert.Equal((columns, rows), SweepChart.Grid(panels));
    }

    [Fact]
    public void TheBestIsTheHighestAccuracyOrTheLowestRmseTiesToTheLowerLossThenTheEarlierTrial()
    {
        var classification = new[] { Trial(1, 0.9, null, 0.3), Trial(2, 0.95, null, 0.2), Trial(3, 0.95, null, 0.1), Trial(4, 0.95, null, 0.1) };
        Assert.Equal(3, SweepChart.Best(classification)!.Trial);
        var regression = new[] { Trial(1, null, 2.5, 0.3), Trial(2, null, 1.5, 0.2), Trial(3, null, 4.0, 0.1) };
        Assert.Equal(2, SweepChart.Best(regression)!.Trial);
        Assert.True(SweepChart.IsRegression(regression));
        Assert.False(SweepChart.IsRegression(classification));
        Assert.Null(SweepChart.Best(Array.Empty<SweepPoint>()));
    }

    [Fact]
    public void FewValuesAreColumnsInOrderManyNumbersGoOnANumberLine()
    {
        Assert.Equal(new[] { "0.001", "0.003", "0.01" }, SweepChart.Columns(new object[] { 0.01, 0.001, 0.003, 0.001 }));
        Assert.Equal(new[] { "GELU", "ReLU", "Tanh" }, SweepChart.Columns(new object[] { "ReLU", "Tanh", "GELU", "ReLU" }));
        Assert.Equal(new[] { "@(4)", "@(16)", "@(32,16)", "@(32,64)", "@(512,256)" }, SweepChart.Columns(new object[] { "@(16)", "@(512,256)", "@(32,64)", "@(4)", "@(32,16)" }));
        // Twelve numbers are still columns; thirteen are a range drawn from.
        Assert.Equal(12, SweepChart.Columns(Enumerable.Range(1, 12).Select(i => (object)(double)i))!.Length);
        Assert.Null(SweepChart.Columns(Enumerable.Range(1, 13).Select(i => (object)(double)i)));
        Assert.True(SweepChart.LogAxis(new[] { 1e-4, 3e-3 }));
        Assert.False(SweepChart.LogAxis(new[] { 0.0, 0.5 }));
        Assert.False(SweepChart.LogAxis(new[] { 16.0, 128.0 }));
        Assert.Equal("1.235E+05", SweepChart.Label(123456.0));
    }

    [Fact]
    public void PointsOfAColumnSpreadEvenlyAndTheMedianBarSitsAtTheMiddleScore()
    {
        Assert.Equal(0, SweepChart.Offset(0, 1));
        Assert.Equal(new[] { -0.2, 0, 0.2 }, Enumerable.Range(0, 3).Select(i => Math.Round(SweepChart.Offset(i, 3), 12)));
        Assert.Equal(0.7, SweepChart.Median(new[] { 0.9, 0.5, 0.7 }));
        Assert.Equal(0.6, SweepChart.Median(new[] { 0.9, 0.5, 0.7, 0.3 }), 12);
    }

    [Fact]
    public void ThePictureHasAChartPerParameterBesideTheTrialsAndRowsOfTheDefaultHeight()
    {
        var trials = Enumerable.Range(1, 6).Select(i => Trial(i, 0.5 + i / 20.0, null, 1 - i / 10.0, ("Activation", i % 2 == 0 ? "ReLU" : "GELU"), ("Dropout", i % 3 / 10.0))).ToArray();

        PngImage image = SweepChart.Render(trials, 800);
        PngImage titled = SweepChart.Render(trials, 800, 500, "Six trials");

        Assert.Equal((800, 2 * SweepChart.RowHeight), (image.Width, image.Height));
        Assert.Equal((800, 500), (titled.Width, titled.Height));
        using SKBitmap bitmap = SKBitmap.Decode(image.ToArray());
        // Three charts in a grid of four cells: three are drawn on, the last stays white.
        Assert.True(HasColour(bitmap, 0, 400, 0, 380, IsTrialBlue));
        Assert.True(HasColour(bitmap, 400, 800, 0, 380, IsTrialBlue));
        Assert.True(HasColour(bitmap, 0, 400, 380, 760, IsTrialBlue));
        Assert.False(HasColour(bitmap, 400, 800, 380, 760, c => c != SKColors.White));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void TheBestTrialIsMarkedAtTheTopForAccuracyAndAtTheBottomForRmse(bool regression)
    {
        // Four trials at one value of one parameter; trial 3 is best: the highest accuracy, or the lowest RMSE.
        double[] scores = regression ? new[] { 2.0, 3.0, 1.0, 4.0 } : new[] { 0.6, 0.7, 0.9, 0.5 };
        var trials = scores.Select((s, i) => Trial(i + 1, regression ? null : s, regression ? s : null, 0.5, ("Dropout", 0.1))).ToArray();

        using SKBitmap bitmap = SKBitmap.Decode(SweepChart.Render(trials, 800, 400).ToArray());

        // The parameter's chart (the right half) has no legend: its only orange-red is the best trial's diamond.
        var best = Rows(bitmap, 400, 800, IsBestOrange);
        var others = Rows(bitmap, 400, 800, IsTrialBlue);
        Assert.NotEmpty(best);
        Assert.NotEmpty(others);
        if (regression)
        {
            Assert.True(best.Max() > others.Max(), "The lowest RMSE is the lowest point.");
        }
        else
        {
            Assert.True(best.Min() < others.Min(), "The highest accuracy is the highest point.");
        }
    }

    [Fact]
    public void TrialsWithoutAScoreToDrawAreRefused()
    {
        Fails("ImageInputEmpty", () => SweepChart.Render(Array.Empty<SweepPoint>()));
        Fails("ImageInputEmpty", () => SweepChart.Render(new[] { Trial(1, null, double.NaN, null) }));
    }

    private static bool IsTrialBlue(SKColor c) => c.Blue > 150 && c.Red < 40 && c.Green is > 90 and < 140;

    private static bool IsBestOrange(SKColor c) => c.Red > 180 && c.Green is > 60 and < 120 && c.Blue < 40;

    private static int[] Rows(SKBitmap bitmap, int left, int right, Func<SKColor, bool> colour) =>
        Enumerable.Range(0, bitmap.Height).Where(y => Enumerable.Range(left, right - left).Any(x => colour(bitmap.GetPixel(x, y)))).ToArray();

    private static bool HasColour(SKBitmap bitmap, int left, int right, int top, int bottom, Func<SKColor, bool> colour)
    {
        for (int y = top; y < bottom; y++)
        {
            for (int x = left; x < right; x++)
            {
                if (colour(bitmap.GetPixel(x, y)))
                {
                    return true;
                }
            }
        }
        return false;
    }
}
