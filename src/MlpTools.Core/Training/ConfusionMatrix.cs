using System.Globalization;
using System.Text;

namespace MlpTools.Core.Training;

/// <summary>
/// How often each actual class was predicted as each class: row = the label, column = the model's answer.
/// The diagonal holds the right answers. Square, with one row and column per class the model can answer.
/// </summary>
public sealed class ConfusionMatrix
{
    private readonly int[] _counts;

    /// <param name="counts">Row by row: <c>counts[actual * classCount + predicted]</c>.</param>
    public ConfusionMatrix(int classCount, int[] counts)
    {
        if (classCount < 0 || counts.Length != classCount * classCount)
        {
            throw new ArgumentException($"A confusion matrix of {classCount} classes needs {classCount * classCount} counts, not {counts.Length}.", nameof(counts));
        }
        ClassCount = classCount;
        _counts = counts;
    }

    public int ClassCount { get; }

    /// <summary>The classes' names, by index: the rows' and columns' headings ("0" to "9" for MNIST, "setosa" ... for a table).</summary>
    public IReadOnlyList<string> ClassNames
    {
        get => _classNames ?? Enumerable.Range(0, ClassCount).Select(c => c.ToString(CultureInfo.InvariantCulture)).ToArray();
        init => _classNames = value.Count == ClassCount ? value.ToArray()
            : throw new ArgumentException($"A confusion matrix of {ClassCount} classes needs {ClassCount} class names, not {value.Count}.", nameof(value));
    }

    private readonly string[]? _classNames;

    /// <summary>All images counted: the sum of every cell.</summary>
    public int Total => _counts.Sum();

    /// <summary>Images whose label is <paramref name="actual"/> that the model answered <paramref name="predicted"/>.</summary>
    public int GetCount(int actual, int predicted)
    {
        if ((uint)actual >= ClassCount || (uint)predicted >= ClassCount)
        {
            throw new ArgumentOutOfRangeException(actual < 0 || actual >= ClassCount ? nameof(actual) : nameof(predicted),
                $"Classes run from 0 to {ClassCount - 1}; got actual {actual}, predicted {predicted}.");
        }
        return _counts[actual * ClassCount + predicted];
    }

    /// <summary>Images with label <paramref name="actual"/>: the row's sum.</summary>
    public int ActualTotal(int actual) => Enumerable.Range(0, ClassCount).Sum(p => GetCount(actual, p));

    /// <summary>Images the model answered <paramref name="predicted"/>: the column's sum.</summary>
    public int PredictedTotal(int predicted) => Enumerable.Range(0, ClassCount).Sum(a => GetCount(a, predicted));

    /// <summary>Every cell as an object, row by row: easy to filter, sort, group or export.</summary>
    public IReadOnlyList<ConfusionCell> Cells =>
        Enumerable.Range(0, ClassCount * ClassCount).Select(i => new ConfusionCell(i / ClassCount, i % ClassCount, _counts[i])).ToArray();

    /// <summary>The wrong answers only, most frequent first: which digits are taken for which.</summary>
    public IReadOnlyList<ConfusionCell> Mistakes =>
        Cells.Where(c => !c.Correct && c.Images > 0).OrderByDescending(c => c.Images).ThenBy(c => c.Actual).ThenBy(c => c.Predicted).ToArray();

    /// <summary>The counts as a jagged array, <c>[actual][predicted]</c>.</summary>
    public int[][] ToArray() =>
        Enumerable.Range(0, ClassCount).Select(a => _counts.AsSpan(a * ClassCount, ClassCount).ToArray()).ToArray();

    /// <summary>The matrix as aligned text: one row per actual class, one column per predicted class.</summary>
    public override string ToString()
    {
        const string corner = "Actual \\ Predicted";
        var names = ClassNames;
        int width = Math.Max(_counts.DefaultIfEmpty(0).Max().ToString(CultureInfo.InvariantCulture).Length, names.DefaultIfEmpty("").Max(n => n.Length)) + 2;
        int rowHeading = Math.Max(corner.Length, names.DefaultIfEmpty("").Max(n => n.Length));
        var text = new StringBuilder();
        text.Append(corner.PadLeft(rowHeading));
        for (int p = 0; p < ClassCount; p++)
        {
            text.Append(names[p].PadLeft(width));
        }
        for (int a = 0; a < ClassCount; a++)
        {
            text.AppendLine();
            text.Append(names[a].PadLeft(rowHeading));
            for (int p = 0; p < ClassCount; p++)
            {
                text.Append(GetCount(a, p).ToString(CultureInfo.InvariantCulture).PadLeft(width));
            }
        }
        return text.ToString();
    }
}

/// <summary>One cell of a confusion matrix: how many images labelled <see cref="Actual"/> the model answered <see cref="Predicted"/>.</summary>
/// <remarks>Not "Count": in PowerShell, $cells.Count would give the number of cells instead of each cell's count.</remarks>
public sealed record ConfusionCell(int Actual, int Predicted, int Images)
{
    public bool Correct => Actual == Predicted;
}
