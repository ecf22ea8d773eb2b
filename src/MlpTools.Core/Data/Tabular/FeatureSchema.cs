using System.Text.Json.Serialization;
using MlpTools.Core.Platform;

namespace MlpTools.Core.Data.Tabular;

/// <summary>One feature as the model sees it: numeric (one input) or categorical (one input per category, one-hot).</summary>
/// <param name="Categories">Empty for a numeric column; otherwise the one-hot order, as sorted when the data was read.</param>
public sealed record FeatureColumn(string Name, ColumnKind Kind, IReadOnlyList<string> Categories);

/// <summary>
/// The features a model was trained with and how each is encoded, kept with the model so new rows are encoded
/// exactly as the training rows were. A plain data shape: <see cref="Columns"/> is all there is to save.
/// </summary>
public sealed class FeatureSchema
{
    private readonly CategoryTable?[] _categoryTables;

    public FeatureSchema(IReadOnlyList<FeatureColumn> columns)
    {
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        _categoryTables = new CategoryTable?[columns.Count];
        var encodedNames = new List<string>();
        var numericMask = new List<bool>();
        for (int i = 0; i < columns.Count; i++)
        {
            FeatureColumn column = columns[i];
            if (string.IsNullOrWhiteSpace(column.Name) || !names.Add(column.Name))
            {
                throw Invalid($"feature {i + 1} has an empty or repeated name '{column.Name}'");
            }
            if (column.Kind == ColumnKind.Numeric)
            {
                if (column.Categories.Count != 0)
                {
                    throw Invalid($"numeric feature '{column.Name}' lists categories");
                }
                encodedNames.Add(column.Name);
                numericMask.Add(true);
                continue;
            }
            var table = new CategoryTable();
            foreach (string category in column.Categories)
            {
                int known = table.Count;
                if (table.GetOrAdd(category) != known)
                {
                    throw Invalid($"categorical feature '{column.Name}' lists '{category}' twice");
                }
                encodedNames.Add($"{column.Name}={category}");
                numericMask.Add(false);
            }
            if (table.Count == 0)
            {
                throw Invalid($"categorical feature '{column.Name}' has no categories");
            }
            _categoryTables[i] = table;
        }
        Columns = columns;
        EncodedNames = encodedNames;
        NumericMask = numericMask;
    }

    public IReadOnlyList<FeatureColumn> Columns { get; }

    /// <summary>Inputs the model takes: one per numeric column plus one per category.</summary>
    [JsonIgnore]
    public int EncodedWidth => EncodedNames.Count;

    /// <summary>Per input: "Price" for a numeric column, "Color=red" for a category.</summary>
    [JsonIgnore]
    public IReadOnlyList<string> EncodedNames { get; }

    /// <summary>Per input: true for a numeric column (to standardise), false for a one-hot input (left as 0/1).</summary>
    [JsonIgnore]
    public IReadOnlyList<bool> NumericMask { get; }

    /// <summary>The code of a category in column <paramref name="column"/> (its one-hot position), or -1 when unseen.</summary>
    internal int CategoryIndex(int column, ReadOnlySpan<char> category) => _categoryTables[column]!.IndexOf(category);

    /// <summary>
    /// Encodes one row for prediction into <see cref="EncodedWidth"/> floats (raw, not standardised). Numbers come from
    /// numeric values or from text parsed with the invariant culture; categories are matched exactly (after trimming).
    /// </summary>
    /// <param name="valueOf">The row's value for a column name; null when the row has no such column (or it is null).</param>
    /// <param name="rowNumber">1-based, for the messages.</param>
    public void EncodeRow(Func<string, object?> valueOf, long rowNumber, Span<float> destination, UnknownCategoryPolicy unknown)
    {
        if (destination.Length < EncodedWidth)
        {
            throw new ArgumentException($"The destination holds {destination.Length} values; a row encodes to {EncodedWidth}.", nameof(destination));
        }
        string where = $"row {rowNumber}";
        int offset = 0;
        for (int i = 0; i < Columns.Count; i++)
        {
            FeatureColumn column = Columns[i];
            object value = valueOf(column.Name) ?? throw TabularErrors.FeatureMissing(where, column.Name, Columns.Select(c => c.Name).ToArray());
            if (column.Kind == ColumnKind.Numeric)
            {
                destination[offset++] = Number(value, where, column.Name);
                continue;
            }
            Span<float> block = destination.Slice(offset, column.Categories.Count);
            block.Clear();
            offset += block.Length;
            ReadOnlySpan<char> text = CellValues.ToText(value).AsSpan().Trim();
            if (text.IsEmpty)
            {
                throw TabularErrors.MissingForModel(where, column.Name);
            }
            int code = CategoryIndex(i, text);
            if (code >= 0)
            {
                block[code] = 1;
            }
            else if (unknown == UnknownCategoryPolicy.Error)
            {
                throw TabularErrors.CategoryUnseen(where, column.Name, text.ToString(), column.Categories);
            }
        }
    }

    private static float Number(object value, string where, string column)
    {
        if (CellValues.TryGetNumber(value, out float number))
        {
            return number;
        }
        string text = CellValues.ToText(value);
        if (string.IsNullOrWhiteSpace(text))
        {
            throw TabularErrors.MissingForModel(where, column);
        }
        return CellValues.TryParseNumber(text, out number) ? number : throw TabularErrors.NotNumericForModel(where, column, text);
    }

    private static MlpToolsException Invalid(string problem) =>
        new(ErrorIds.FeatureSchemaInvalid,
            $"The model's feature schema is damaged: {problem}. Train the model again, or load it from an undamaged file.");
}
