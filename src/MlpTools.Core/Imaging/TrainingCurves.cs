using MlpTools.Core.Platform;
using ScottPlot;
using SkiaSharp;

namespace MlpTools.Core.Imaging;

/// <summary>
/// What a training curve needs of one epoch. Taken by name from epoch records (or rows of their CSV export),
/// so records that gain fields still draw. <see cref="Series"/> tells runs apart, e.g. the model's name.
/// </summary>
public sealed record EpochPoint(string Series, int Epoch, double Loss, double? TrainAccuracy, double? ValidationAccuracy)
{
    public double? ValidationLoss { get; init; }
    /// <summary>Regression: root mean squared error on the training and validation sets.</summary>
    public double? TrainRmse { get; init; }
    public double? ValidationRmse { get; init; }
}

/// <summary>
/// Training curves as the lecture reads them: training and validation loss per epoch on the left, training and
/// validation accuracy (RMSE for regression) per epoch on the right, one colour per run. Drawn with ScottPlot.
/// </summary>
public static class TrainingCurves
{
    public static PngImage Render(IReadOnlyList<EpochPoint> points, int width = 1000, int height = 420, string? title = null)
    {
        if (points.Count == 0)
        {
            throw new MlpToolsException(ErrorIds.ImageInputEmpty,
                "There are no epoch records to draw. Pipe the output of Invoke-MlpTraining (or Import-Csv of its export).");
        }
        using SKSurface surface = PngImage.NewSurface(width, height);
        var runs = points.GroupBy(p => p.Series).Select(g => (Name: g.Key, Points: g.OrderBy(p => p.Epoch).ToArray())).ToArray();
        bool named = runs.Length > 1;
        float top = 0;
        if (title is not null)
        {
            top = Charts.DrawTitle(surface.Canvas, title, width);
        }

        bool regression = points.All(p => p.TrainAccuracy is null);
        using (var loss = NewPlot("Loss per epoch", regression ? "Mean squared error (standardised)" : "Cross-entropy loss"))
        using (var measure = NewPlot(regression ? "RMSE per epoch" : "Accuracy per epoch", regression ? "RMSE" : "Accuracy"))
        {
            for (int r = 0; r < runs.Length; r++)
            {
                var (name, run) = runs[r];
                Color color = Palette[r % Palette.Length];
                AddSeries(loss, run, p => p.Loss, color, LinePattern.Solid, named ? name : "Train");
                AddSeries(loss, run, p => p.ValidationLoss, color, LinePattern.Dashed, named ? $"{name} validation" : "Validation");
                AddSeries(measure, run, p => regression ? p.TrainRmse : p.TrainAccuracy, color, LinePattern.Solid, named ? $"{name} train" : "Train");
                AddSeries(measure, run, p => regression ? p.ValidationRmse : p.ValidationAccuracy, color, LinePattern.Dashed, named ? $"{name} validation" : "Validation");
            }
            // Under each chart, outside the data area: inside it, any corner covers points of some run.
            loss.ShowLegend(Edge.Bottom);
            measure.ShowLegend(Edge.Bottom);
            int half = width / 2;
            Charts.RenderPanel(surface.Canvas, loss, 0, (int)top, half, height - (int)top);
            Charts.RenderPanel(surface.Canvas, measure, half, (int)top, width - half, height - (int)top);
        }
        return PngImage.From(surface, width, height);
    }

    /// <summary>Distinct, colour-blind-safe line colours (Okabe-Ito), one per run.</summary>
    private static readonly Color[] Palette =
    {
        Color.FromHex("#0072B2"), Color.FromHex("#D55E00"), Color.FromHex("#009E73"), Color.FromHex("#CC79A7"),
        Color.FromHex("#E69F00"), Color.FromHex("#56B4E9"), Color.FromHex("#000000"),
    };

    private static Plot NewPlot(string title, string yLabel)
    {
        var plot = new Plot();
        Charts.UseSansFont(plot);
        plot.Title(title, 16);
        plot.XLabel("Epoch", 14);
        plot.YLabel(yLabel, 14);
        // Epochs are whole numbers: no tick at 1.5.
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        return plot;
    }

    /// <summary>One line of the epochs that have a finite value for <paramref name="value"/>; none when no epoch has.</summary>
    private static void AddSeries(Plot plot, EpochPoint[] run, Func<EpochPoint, double?> value, Color color, LinePattern pattern, string legend)
    {
        var present = run.Where(p => value(p) is double v && double.IsFinite(v)).ToArray();
        if (present.Length > 0)
        {
            AddLine(plot, present.Select(p => (double)p.Epoch).ToArray(), present.Select(p => value(p)!.Value).ToArray(), color, pattern, legend);
        }
    }

    private static void AddLine(Plot plot, double[] xs, double[] ys, Color color, LinePattern pattern, string legend)
    {
        var line = plot.Add.Scatter(xs, ys, color);
        line.LinePattern = pattern;
        line.LineWidth = 2;
        line.MarkerSize = 6;
        line.LegendText = legend;
    }
}

/// <summary>What the ScottPlot charts share.</summary>
internal static class Charts
{
    /// <summary>ScottPlot picks a serif font on Linux; the digit grid and the charts read better in the same sans.</summary>
    public static void UseSansFont(Plot plot)
    {
        if (ImagingRuntime.Sans is string family)
        {
            plot.Font.Set(family);
        }
    }

    /// <summary>
    /// Draws a chart into part of a picture. ScottPlot clears the whole canvas it renders on, so each chart is
    /// rendered on a surface of its own and then copied into place.
    /// </summary>
    public static void RenderPanel(SKCanvas canvas, Plot plot, int left, int top, int width, int height)
    {
        using SKSurface panel = PngImage.NewSurface(width, height);
        plot.Render(panel.Canvas, width, height);
        canvas.DrawSurface(panel, left, top);
    }

    /// <summary>A bold heading centred over the charts; returns the height it takes.</summary>
    public static float DrawTitle(SKCanvas canvas, string title, int width)
    {
        const float size = 18f;
        using SKTypeface typeface = ImagingRuntime.Typeface(bold: true);
        using var font = new SKFont(typeface, size) { Edging = SKFontEdging.Antialias };
        using var paint = new SKPaint { Color = SKColors.Black, IsAntialias = true };
        canvas.DrawText(title, width / 2f, size + 6, SKTextAlign.Center, font, paint);
        return size + 14;
    }
}
