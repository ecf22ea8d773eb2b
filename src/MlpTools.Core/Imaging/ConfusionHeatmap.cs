using MlpTools.Core.Platform;
using MlpTools.Core.Training;
using ScottPlot;
using SkiaSharp;

namespace MlpTools.Core.Imaging;

/// <summary>
/// A confusion matrix as a heat map: actual class down the side (0 at the top), predicted class along the bottom,
/// darker for more images, each cell labelled with its count. Drawn with ScottPlot.
/// </summary>
public static class ConfusionHeatmap
{
    public static PngImage Render(ConfusionMatrix matrix, string title, int width = 640, int height = 600)
    {
        int n = matrix.ClassCount;
        if (n == 0)
        {
            throw new MlpToolsException(ErrorIds.ImageInputEmpty,
                "The confusion matrix has no classes to draw.");
        }
        using SKSurface surface = PngImage.NewSurface(width, height);
        using var plot = new Plot();
        Charts.UseSansFont(plot);

        // Heatmap rows are drawn top to bottom as the array's first index, so actual class 0 ends up at the top,
        // as in a printed matrix; cell (actual a, predicted p) is centred at x = p, y = n - 1 - a.
        var intensities = new double[n, n];
        int largest = 1;
        for (int a = 0; a < n; a++)
        {
            for (int p = 0; p < n; p++)
            {
                intensities[a, p] = matrix.GetCount(a, p);
                largest = Math.Max(largest, matrix.GetCount(a, p));
            }
        }
        var heatmap = plot.Add.Heatmap(intensities);
        // ScottPlot's Blues runs from dark to light; reversed, an empty cell is white and the busiest the darkest.
        heatmap.Colormap = new ScottPlot.Colormaps.Blues().Reversed();
        heatmap.ManualRange = new ScottPlot.Range(0, largest);
        var colorBar = plot.Add.ColorBar(heatmap);
        colorBar.Label = "Images";
        // ScottPlot's own ticks label every tenth step of a tall bar (about 23 labels for MNIST's test set): a handful reads.
        colorBar.Axis.TickGenerator = ScaleTicks(largest);

        float cellPixels = Math.Min(width, height) / (n + 3f);
        float textSize = Math.Clamp(cellPixels * 0.32f, 6f, 16f);
        for (int a = 0; a < n; a++)
        {
            for (int p = 0; p < n; p++)
            {
                int count = matrix.GetCount(a, p);
                var label = plot.Add.Text(count.ToString(System.Globalization.CultureInfo.InvariantCulture), p, n - 1 - a);
                label.LabelFontSize = textSize;
                label.LabelAlignment = Alignment.MiddleCenter;
                // Light text on the dark half of the colour scale, dark text on the light half.
                label.LabelFontColor = count > largest / 2.0 ? Colors.White : Colors.Black;
                if (ImagingRuntime.Sans is string family)
                {
                    label.LabelFontName = family;
                }
            }
        }

        var xTicks = new ScottPlot.TickGenerators.NumericManual();
        var yTicks = new ScottPlot.TickGenerators.NumericManual();
        for (int c = 0; c < n; c++)
        {
            string name = matrix.ClassNames[c];
            xTicks.AddMajor(c, name);
            yTicks.AddMajor(n - 1 - c, name);
        }
        plot.Axes.Bottom.TickGenerator = xTicks;
        plot.Axes.Left.TickGenerator = yTicks;
        plot.Axes.SetLimits(-0.5, n - 0.5, -0.5, n - 0.5);
        plot.HideGrid();
        plot.Title(title, 16);
        plot.XLabel("Predicted class", 14);
        plot.YLabel("Actual class", 14);
        plot.Render(surface.Canvas, new PixelRect(0, width, height, 0));
        return PngImage.From(surface, width, height);
    }

    /// <summary>At most six values from 0 to <paramref name="largest"/>, a round step apart (1, 2, 2.5 or 5 times a power of ten).</summary>
    internal static double[] ScaleTickValues(int largest)
    {
        double rough = Math.Max(1, largest / 5.0);
        double power = Math.Pow(10, Math.Floor(Math.Log10(rough)));
        double step = new[] { 1, 2, 2.5, 5, 10 }.Select(f => f * power).First(s => s >= rough);
        step = Math.Max(1, Math.Round(step));   // counts are whole: no tick at 2.5 images
        int count = (int)Math.Floor(largest / step) + 1;
        return Enumerable.Range(0, count).Select(i => i * step).ToArray();
    }

    private static ScottPlot.TickGenerators.NumericManual ScaleTicks(int largest)
    {
        var ticks = new ScottPlot.TickGenerators.NumericManual();
        foreach (double value in ScaleTickValues(largest))
        {
            ticks.AddMajor(value, value.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        return ticks;
    }
}
