using System.Globalization;
using MlpTools.Core.Platform;
using MlpTools.Core.Training;
using ScottPlot;
using SkiaSharp;

namespace MlpTools.Core.Imaging;

/// <summary>
/// What a sweep chart needs of one finished trial, taken by name from Invoke-MlpSweep's records (or the lines of its
/// result file). A parameter's value is a number (a double) or, for anything else (an activation, hidden sizes), its text.
/// </summary>
public sealed record SweepPoint(int Trial, double? ValidationAccuracy, double? ValidationRmse, IReadOnlyDictionary<string, object> Parameters) : IValidationScored
{
    /// <summary>Breaks ties between equal scores, as Invoke-MlpSweep does when it picks the best model.</summary>
    public double? ValidationLoss { get; init; }
}

/// <summary>
/// A sweep at a glance: the validation accuracy (RMSE for regression, lower is better) of every trial in the order the
/// trials finished, with the best so far and the best marked; then one chart per swept parameter with the score of each
/// trial at its value of that parameter, so that a value that does well whatever the others are stands out. Drawn with ScottPlot.
/// </summary>
public static class SweepChart
{
    /// <summary>The height of a row of charts when no height is given.</summary>
    public const int RowHeight = 380;

    /// <summary>A parameter with at most this many distinct values is drawn as one column of points per value; one with more on a number line.</summary>
    internal const int MaxColumns = 12;

    private static readonly Color TrialColor = Color.FromHex("#0072B2");
    private static readonly Color BestColor = Color.FromHex("#D55E00");
    private static readonly Color BestSoFarColor = Color.FromHex("#999999");
    private static readonly Color MedianColor = Color.FromHex("#000000");

    /// <summary>Draws the chart; <paramref name="height"/> null gives <see cref="RowHeight"/> per row of charts.</summary>
    public static PngImage Render(IReadOnlyList<SweepPoint> trials, int width = 1000, int? height = null, string? title = null)
    {
        var scored = trials.Where(t => Score(t) is double s && double.IsFinite(s)).ToArray();
        if (scored.Length == 0)
        {
            throw new MlpToolsException(ErrorIds.ImageInputEmpty,
                "There are no trials with a validation score to draw. Pipe the records of Invoke-MlpSweep (or the trial lines of its result file through ConvertFrom-Json).");
        }
        bool regression = IsRegression(trials);
        string[] parameters = scored.SelectMany(t => t.Parameters.Keys).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        var (columns, rows) = Grid(1 + parameters.Length);
        int top = title is null ? 0 : TitleHeight;
        int total = height ?? top + rows * RowHeight;
        using SKSurface surface = PngImage.NewSurface(width, total);
        if (title is not null)
        {
            Charts.DrawTitle(surface.Canvas, title, width);
        }
        SweepPoint best = Best(scored)!;
        string metric = regression ? "Validation RMSE" : "Validation accuracy";
        int cellWidth = width / columns, cellHeight = (total - top) / rows;
        for (int panel = 0; panel <= parameters.Length; panel++)
        {
            using Plot plot = panel == 0 ? TrialPlot(trials, best, metric, regression) : ParameterPlot(scored, parameters[panel - 1], best, metric, regression);
            Charts.RenderPanel(surface.Canvas, plot, panel % columns * cellWidth, top + panel / columns * cellHeight, cellWidth, cellHeight);
        }
        return PngImage.From(surface, width, total);
    }

    /// <summary>Regression when no trial has an accuracy.</summary>
    public static bool IsRegression(IEnumerable<SweepPoint> trials) => trials.All(t => t.ValidationAccuracy is null);

    /// <summary>The best trial as Invoke-MlpSweep picks it (<see cref="ValidationRanking"/>); null for none.</summary>
    public static SweepPoint? Best(IEnumerable<SweepPoint> trials) => ValidationRanking.Best(trials);

    /// <summary>Columns and rows of charts: side by side up to two, then two or three to a row.</summary>
    public static (int Columns, int Rows) Grid(int panels)
    {
        int columns = panels <= 2 ? panels : panels <= 4 ? 2 : 3;
        return (columns, (panels + columns - 1) / columns);
    }

    /// <summary>
    /// The columns a parameter's values are drawn in, left to right: numbers in increasing order, text in alphabetical
    /// order with the numbers in it compared as numbers (hidden sizes @(4), @(16), @(32,16)).
    /// Null when the parameter has more than <see cref="MaxColumns"/> values, all numbers: those go on a number line.
    /// </summary>
    internal static string[]? Columns(IEnumerable<object> values)
    {
        var distinct = values.Distinct().ToArray();
        if (distinct.All(v => v is double))
        {
            return distinct.Length > MaxColumns ? null : distinct.Cast<double>().Order().Select(d => Label(d)).ToArray();
        }
        return distinct.Select(Label).Distinct(StringComparer.Ordinal).Order(Comparer<string>.Create(NaturalCompare)).ToArray();
    }

    /// <summary>Text in order with its numbers compared as numbers: @(4) before @(16) before @(32,16).</summary>
    internal static int NaturalCompare(string? a, string? b)
    {
        var (x, y) = (NumberRuns.Split(a ?? ""), NumberRuns.Split(b ?? ""));
        for (int i = 0; i < Math.Min(x.Length, y.Length); i++)
        {
            int order = double.TryParse(x[i], NumberStyles.Float, CultureInfo.InvariantCulture, out double p) && double.TryParse(y[i], NumberStyles.Float, CultureInfo.InvariantCulture, out double q)
                ? p.CompareTo(q)
                : string.CompareOrdinal(x[i], y[i]);
            if (order != 0)
            {
                return order;
            }
        }
        return x.Length.CompareTo(y.Length);
    }

    /// <summary>Splits text into runs of digits and the text between them (the runs are kept).</summary>
    private static readonly System.Text.RegularExpressions.Regex NumberRuns = new(@"(\d+(?:\.\d+)?)", System.Text.RegularExpressions.RegexOptions.CultureInvariant);

    /// <summary>True when numbers are all positive and the largest is ten times the smallest or more (a learning rate): drawn on a log axis.</summary>
    internal static bool LogAxis(IReadOnlyCollection<double> values) => values.Count > 0 && values.Min() > 0 && values.Max() / values.Min() >= 10;

    /// <summary>
    /// Where in its column the i-th of n points goes, so points of equal value stay apart: spread over ±0.2 of a column,
    /// in the order they finished.
    /// </summary>
    internal static double Offset(int i, int n) => n == 1 ? 0 : -0.2 + 0.4 * i / (n - 1);

    /// <summary>How a parameter's value is written under its column: numbers to four significant digits.</summary>
    public static string Label(object value) => value is double d ? d.ToString("G4", CultureInfo.InvariantCulture) : Convert.ToString(value, CultureInfo.InvariantCulture) ?? "";

    private static double? Score(SweepPoint trial) => trial.ValidationAccuracy ?? trial.ValidationRmse;

    /// <summary>What <see cref="Charts.DrawTitle"/> takes.</summary>
    private const int TitleHeight = 32;

    private static Plot TrialPlot(IReadOnlyList<SweepPoint> trials, SweepPoint best, string metric, bool regression)
    {
        Plot plot = NewPlot($"{metric} per trial{(regression ? " (lower is better)" : "")}", "Trials in the order they finished", metric);
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        var order = trials.Select((t, i) => (Place: i + 1.0, Score: Score(t))).Where(p => p.Score is double s && double.IsFinite(s)).ToArray();
        double[] xs = order.Select(p => p.Place).ToArray(), ys = order.Select(p => p.Score!.Value).ToArray();
        // The best score so far, as a step at each trial that improved it.
        var bestSoFar = new double[ys.Length];
        for (int i = 0; i < ys.Length; i++)
        {
            bestSoFar[i] = i == 0 ? ys[0] : regression ? Math.Min(bestSoFar[i - 1], ys[i]) : Math.Max(bestSoFar[i - 1], ys[i]);
        }
        var line = plot.Add.Scatter(xs, bestSoFar, BestSoFarColor);
        line.ConnectStyle = ConnectStyle.StepHorizontal;
        line.LineWidth = 2;
        line.MarkerSize = 0;
        line.LegendText = "Best so far";
        AddPoints(plot, xs, ys, TrialColor, MarkerShape.FilledCircle, 8, "Trial");
        int bestPlace = trials.ToList().IndexOf(best) + 1;
        AddPoints(plot, new[] { (double)bestPlace }, new[] { Score(best)!.Value }, BestColor, MarkerShape.FilledDiamond, 16, $"Best: trial {best.Trial}, {Score(best)!.Value:G4}");
        // Under the chart, where it hides no trial.
        plot.ShowLegend(Edge.Bottom);
        return plot;
    }

    private static Plot ParameterPlot(IReadOnlyList<SweepPoint> trials, string parameter, SweepPoint best, string metric, bool regression)
    {
        Plot plot = NewPlot($"{metric} per {parameter}", parameter, metric);
        var having = trials.Where(t => t.Parameters.ContainsKey(parameter)).ToArray();
        string[]? columns = Columns(having.Select(t => t.Parameters[parameter]));
        if (columns is null)
        {
            // Many numbers (a range drawn from): each trial at its value on a number line, a log one for a span of powers of ten.
            double[] values = having.Select(t => (double)t.Parameters[parameter]).ToArray();
            bool log = LogAxis(values);
            double Place(double v) => log ? Math.Log10(v) : v;
            AddPoints(plot, values.Select(Place).ToArray(), having.Select(t => Score(t)!.Value).ToArray(), TrialColor, MarkerShape.FilledCircle, 8, null);
            if (having.Contains(best))
            {
                AddPoints(plot, new[] { Place((double)best.Parameters[parameter]) }, new[] { Score(best)!.Value }, BestColor, MarkerShape.FilledDiamond, 16, null);
            }
            if (log)
            {
                plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
                {
                    IntegerTicksOnly = true,
                    LabelFormatter = v => Math.Pow(10, v).ToString("G3", CultureInfo.InvariantCulture),
                    MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
                };
                plot.XLabel($"{parameter} (log scale)", 14);
            }
            return plot;
        }
        var ticks = new ScottPlot.TickGenerators.NumericManual();
        for (int c = 0; c < columns.Length; c++)
        {
            ticks.AddMajor(c, columns[c]);
            var inColumn = having.Where(t => Label(t.Parameters[parameter]) == columns[c]).ToArray();
            double[] xs = inColumn.Select((_, i) => c + Offset(i, inColumn.Length)).ToArray();
            double[] ys = inColumn.Select(t => Score(t)!.Value).ToArray();
            // The median of the column, as a bar across it (under the points): the value's typical score, whatever the other parameters were.
            double median = Median(ys);
            var bar = plot.Add.Line(c - 0.3, median, c + 0.3, median);
            bar.Color = MedianColor;
            bar.LineWidth = 2;
            AddPoints(plot, xs, ys, TrialColor, MarkerShape.FilledCircle, 8, null);
            int bestIndex = Array.IndexOf(inColumn, best);
            if (bestIndex >= 0)
            {
                AddPoints(plot, new[] { xs[bestIndex] }, new[] { ys[bestIndex] }, BestColor, MarkerShape.FilledDiamond, 16, null);
            }
        }
        plot.Axes.Bottom.TickGenerator = ticks;
        plot.Axes.SetLimitsX(-0.6, columns.Length - 0.4);
        return plot;
    }

    internal static double Median(IReadOnlyList<double> values)
    {
        var sorted = values.Order().ToArray();
        int middle = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }

    private static Plot NewPlot(string title, string xLabel, string yLabel)
    {
        var plot = new Plot();
        Charts.UseSansFont(plot);
        plot.Title(title, 15);
        plot.XLabel(xLabel, 14);
        plot.YLabel(yLabel, 14);
        return plot;
    }

    private static void AddPoints(Plot plot, double[] xs, double[] ys, Color color, MarkerShape shape, float size, string? legend)
    {
        var markers = plot.Add.Markers(xs, ys, shape, size, color);
        if (legend is not null)
        {
            markers.LegendText = legend;
        }
    }
}
