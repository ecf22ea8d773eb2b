using System.Globalization;
using MlpTools.Core.Platform;

namespace MlpTools.Core.Data.Tabular;

public sealed partial class TableBuilder
{
    /// <summary>The most categories one feature column may have: more is an identifier or free text, not a category.</summary>
    public const int MaxCategoriesPerColumn = 1000;

    /// <summary>
    /// The rows added so far as encoded arrays: categories and class names sorted, missing values dropped or filled.
    /// Throws rather than return anything partial (no rows, one class, a column with no value at all).
    /// </summary>
    /// <param name="sourceDescription">What the rows came from, for messages and warnings: a file path, "pipeline input".</param>
    public TabularData Build(string sourceDescription)
    {
        UndoUnfinishedRow();
        if (_rowCount == 0)
        {
            throw new MlpToolsException(ErrorIds.DataEmpty,
                $"'{sourceDescription}' has no data rows. Give it a header and at least one row per class.", sourceDescription);
        }
        var warnings = new List<string>();
        bool[]? keep = _options.Missing == MissingValuePolicy.DropRow ? KeptRows(sourceDescription, warnings) : null;
        int[] rows = keep is null ? Enumerable.Range(0, _rowCount).ToArray() : Enumerable.Range(0, _rowCount).Where(r => keep[r]).ToArray();

        var encodings = new FeatureEncoding[_features.Length];
        var filled = new List<string>();
        for (int i = 0; i < _features.Length; i++)
        {
            encodings[i] = Encode(_features[i], rows, sourceDescription, filled);
        }
        // One input per category: an identifier or free-text column would turn a small file into gigabytes of one-hot zeros.
        if (encodings.Select(e => e.Column).FirstOrDefault(c => c.Categories.Count > MaxCategoriesPerColumn) is FeatureColumn wide)
        {
            throw new MlpToolsException(ErrorIds.CategoryCountTooLarge,
                $"The column '{wide.Name}' of '{sourceDescription}' has {wide.Categories.Count} different text values; one-hot encoding makes each " +
                $"one an input, and MlpTools allows at most {MaxCategoriesPerColumn} per column. It looks like an identifier or free text: " +
                "leave it out with -FeatureProperty / -FeatureColumn, or turn it into numbers first.", wide.Name);
        }
        if (filled.Count > 0)
        {
            warnings.Add($"Filled missing values of '{sourceDescription}': {string.Join(", ", filled)}.");
        }
        var schema = new FeatureSchema(encodings.Select(e => e.Column).ToArray());
        int width = schema.EncodedWidth;
        if ((long)rows.Length * width > Array.MaxLength)
        {
            throw new MlpToolsException(ErrorIds.DataTooLarge,
                $"'{sourceDescription}' encodes to {rows.Length} rows x {width} features, more than one array can hold. Use fewer rows, " +
                "or fewer categorical columns (each category is one input).", sourceDescription);
        }

        var features = new float[rows.Length * width];
        int offset = 0;
        foreach (FeatureEncoding encoding in encodings)
        {
            encoding.Write(rows, features, offset, width);
            offset += encoding.Column.Kind == ColumnKind.Numeric ? 1 : encoding.Column.Categories.Count;
        }

        int[]? labelIndices = null;
        string[]? classNames = null;
        if (_label is not null)
        {
            (classNames, int[] classOfCode) = SortedPresentCategories(_label, rows);
            if (classNames.Length < 2)
            {
                throw new MlpToolsException(ErrorIds.LabelSingleClass,
                    $"The label column '{_label.Name}' of '{sourceDescription}' has only one class ('{classNames[0]}') in its {rows.Length} rows; " +
                    "a classifier needs at least two. Check that the right column is the label, or give rows of the other classes.", _label.Name);
            }
            labelIndices = rows.Select(r => classOfCode[_label.Codes![r]]).ToArray();
        }

        float[]? targets = null;
        if (_targets.Length > 0)
        {
            targets = new float[rows.Length * _targets.Length];
            for (int t = 0; t < _targets.Length; t++)
            {
                for (int o = 0; o < rows.Length; o++)
                {
                    targets[o * _targets.Length + t] = _targets[t].Numbers![rows[o]];
                }
            }
        }

        return new TabularData(schema, rows.Length, features, _label?.Name, labelIndices, classNames,
            _targets.Length > 0 ? _targets.Select(t => t.Name).ToArray() : null, targets, warnings);
    }

    /// <summary>DropRow: which rows have a value in every used column; warns how many were dropped, per column.</summary>
    private bool[] KeptRows(string sourceDescription, List<string> warnings)
    {
        var keep = new bool[_rowCount];
        var missingPerColumn = new int[_used.Length];
        int kept = 0;
        for (int r = 0; r < _rowCount; r++)
        {
            bool complete = true;
            for (int c = 0; c < _used.Length; c++)
            {
                if (_used[c].IsMissing(r))
                {
                    missingPerColumn[c]++;
                    complete = false;
                }
            }
            keep[r] = complete;
            kept += complete ? 1 : 0;
        }
        string perColumn = string.Join(", ", _used.Select((c, i) => (c.Name, Count: missingPerColumn[i])).Where(x => x.Count > 0).Select(x => $"'{x.Name}' {x.Count}"));
        if (kept == 0)
        {
            throw new MlpToolsException(ErrorIds.DataEmpty,
                $"Every one of the {_rowCount} rows of '{sourceDescription}' has a missing value (empty cells per column: {perColumn}), so -MissingValue " +
                "DropRow leaves nothing. Use -MissingValue Fill, or leave the emptiest columns out of the features.", sourceDescription);
        }
        if (kept < _rowCount)
        {
            warnings.Add($"Dropped {_rowCount - kept} of {_rowCount} rows of '{sourceDescription}' with missing values (empty cells per column: {perColumn}).");
        }
        return keep;
    }

    /// <summary>One feature's schema entry and how to write its kept rows, with the fill value for its missing ones.</summary>
    private FeatureEncoding Encode(Column column, int[] rows, string sourceDescription, List<string> filled)
    {
        if (column.Kind is null)
        {
            throw new MlpToolsException(ErrorIds.DataValueMissing,
                $"Column '{column.Name}' of '{sourceDescription}' has no value in any row, so it cannot be filled. Leave it out of the features " +
                "(-FeatureColumn / -FeatureProperty).", column.Name);
        }
        if (column.Kind == ColumnKind.Numeric)
        {
            double sum = 0;
            int present = 0;
            foreach (int r in rows)
            {
                float value = column.Numbers![r];
                if (!float.IsNaN(value))
                {
                    sum += value;
                    present++;
                }
            }
            float mean = (float)(sum / present);
            if (present < rows.Length)
            {
                filled.Add($"'{column.Name}' {rows.Length - present}x with its mean {mean.ToString("R", CultureInfo.InvariantCulture)}");
            }
            return new FeatureEncoding(new FeatureColumn(column.Name, ColumnKind.Numeric, Array.Empty<string>()), column, null, mean, -1);
        }

        string[] categories;
        int[] indexOfCode;
        if (column.FixedCategories)
        {
            categories = column.Categories!.Names.ToArray();
            indexOfCode = Enumerable.Range(0, categories.Length).ToArray();
        }
        else
        {
            (categories, indexOfCode) = SortedPresentCategories(column, rows);
        }
        var counts = new int[categories.Length];
        int missing = 0;
        foreach (int r in rows)
        {
            int code = column.Codes![r];
            if (code == MissingCode)
            {
                missing++;
            }
            else if (code != IgnoredCode)
            {
                counts[indexOfCode[code]]++;
            }
        }
        // The most frequent category; on a tie the first in the sorted order, so the fill never depends on row order.
        int fillIndex = Array.IndexOf(counts, counts.Max());
        if (missing > 0)
        {
            filled.Add($"'{column.Name}' {missing}x with its most frequent value '{categories[fillIndex]}'");
        }
        return new FeatureEncoding(new FeatureColumn(column.Name, ColumnKind.Categorical, categories), column, indexOfCode, 0, fillIndex);
    }

    /// <summary>The categories that occur in the kept rows, sorted, and for each code its index among them (-1 when absent).</summary>
    private static (string[] Names, int[] IndexOfCode) SortedPresentCategories(Column column, int[] rows)
    {
        var present = new bool[column.Categories!.Count];
        foreach (int r in rows)
        {
            int code = column.Codes![r];
            if (code >= 0)
            {
                present[code] = true;
            }
        }
        string[] names = CellValues.SortNames(column.Categories.Names.Where((_, code) => present[code]));
        var indexOfName = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < names.Length; i++)
        {
            indexOfName[names[i]] = i;
        }
        int[] indexOfCode = column.Categories.Names.Select((name, code) => present[code] ? indexOfName[name] : -1).ToArray();
        return (names, indexOfCode);
    }

    /// <summary>Writes one feature of the kept rows into the row-major features: a number, or a 1 in its one-hot block.</summary>
    private sealed record FeatureEncoding(FeatureColumn Column, TableBuilder.Column Values, int[]? IndexOfCode, float FillNumber, int FillIndex)
    {
        public void Write(int[] rows, float[] features, int offset, int width)
        {
            for (int o = 0; o < rows.Length; o++)
            {
                int at = o * width + offset;
                if (IndexOfCode is null)
                {
                    float value = Values.Numbers![rows[o]];
                    features[at] = float.IsNaN(value) ? FillNumber : value;
                    continue;
                }
                int code = Values.Codes![rows[o]];
                if (code != IgnoredCode)
                {
                    features[at + (code == MissingCode ? FillIndex : IndexOfCode[code])] = 1;
                }
            }
        }
    }
}
