using System.Text;
using MlpTools.Core.Platform;

namespace MlpTools.Core.Data.Tabular;

/// <summary>
/// Turns rows (CSV text or PowerShell objects) into <see cref="TabularData"/>: decides each feature's kind from its first
/// value, learns the categories and class names, applies the missing-value policy. Cells go straight into one typed
/// array per used column (NaN or -1 marks a missing value), so memory stays proportional to the data.
/// A row that fails is not added; the builder stays usable, and rows keep their input numbers in later messages.
/// </summary>
public sealed partial class TableBuilder
{
    private const float MissingNumber = float.NaN;
    private const int MissingCode = -1;
    private const int IgnoredCode = -2; // an unseen category under UnknownCategoryPolicy.Ignore: all zeros

    private enum Role { Feature, Label, Target }

    /// <summary>One used column's values so far: numbers or category codes, once its kind is known.</summary>
    private sealed class Column(string name, int inputIndex, Role role, ColumnKind? kind)
    {
        public string Name { get; } = name;
        public int InputIndex { get; } = inputIndex;
        public Role Role { get; } = role;
        public ColumnKind? Kind { get; set; } = kind;
        public CategoryTable? Categories { get; set; }
        /// <summary>Categories come from a trained model's schema: no new ones are learned.</summary>
        public bool FixedCategories { get; set; }
        public float[]? Numbers { get; set; }
        public int[]? Codes { get; set; }

        /// <summary>Whether text is first tried as a number: targets, numeric features and features whose kind is still open.</summary>
        public bool WantsNumber => Role == Role.Target || (Role == Role.Feature && Kind != ColumnKind.Categorical);

        public bool IsMissing(int row) =>
            Kind is null || (Kind == ColumnKind.Numeric ? float.IsNaN(Numbers![row]) : Codes![row] == MissingCode);
    }

    private readonly TableBuilderOptions _options;
    private readonly int _columnCount;
    private readonly Column[] _used; // in input order, for the row loops
    private readonly Column[] _features; // in feature order
    private readonly Column? _label;
    private readonly Column[] _targets;
    private readonly List<Column> _decidedInThisRow = new();
    private int _rowCount;
    private bool _rowOpen;
    private int _capacity;
    private long _inputRows;

    public TableBuilder(IReadOnlyList<string> columnNames, TableBuilderOptions options)
    {
        if (FindRepeatedName(columnNames) is string repeated)
        {
            throw new ArgumentException($"Column names must be non-empty and unique (ignoring case); '{repeated}' is not.", nameof(columnNames));
        }
        _options = options;
        _columnCount = columnNames.Count;
        var indexOf = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        for (int i = 0; i < columnNames.Count; i++)
        {
            indexOf[columnNames[i]] = i;
        }
        string available = CellValues.Quote(columnNames, 50);

        bool hasLabel = options.LabelColumn is not null && (options.RequireLabel || indexOf.ContainsKey(options.LabelColumn));
        bool hasTargets = options.TargetColumns is { Count: > 0 } targets && (options.RequireLabel || targets.All(indexOf.ContainsKey));
        if (options.LabelColumn is not null && options.TargetColumns is { Count: > 0 })
        {
            throw Conflict($"A label column ('{options.LabelColumn}') and target columns ({CellValues.Quote(options.TargetColumns)}) were both named. " +
                "Name a label to predict classes, or targets to predict numbers, not both.");
        }
        if (options.RequireLabel && !hasLabel && !hasTargets)
        {
            throw new MlpToolsException(ErrorIds.LabelColumnNotFound,
                $"No label column was named. Name the column holding the classes with -LabelColumn (-LabelProperty), or numeric targets " +
                $"with -TargetColumn (-TargetProperty). The columns are {available}.");
        }

        var taken = new Dictionary<string, Role>(StringComparer.OrdinalIgnoreCase);
        if (hasLabel)
        {
            if (!indexOf.TryGetValue(options.LabelColumn!, out int index))
            {
                throw new MlpToolsException(ErrorIds.LabelColumnNotFound,
                    $"The label column '{options.LabelColumn}' is not in the data. The columns are {available}.", options.LabelColumn);
            }
            _label = new Column(columnNames[index], index, Role.Label, ColumnKind.Categorical) { Categories = new CategoryTable() };
            taken[_label.Name] = Role.Label;
        }
        var targetColumns = new List<Column>();
        foreach (string name in hasTargets ? options.TargetColumns! : Array.Empty<string>())
        {
            int index = IndexOrThrow(indexOf, name, "target column", available);
            if (!taken.TryAdd(columnNames[index], Role.Target))
            {
                throw Conflict($"The target column '{name}' is named twice.");
            }
            targetColumns.Add(new Column(columnNames[index], index, Role.Target, ColumnKind.Numeric));
        }
        _targets = targetColumns.ToArray();

        _features = options.Schema is FeatureSchema schema
            ? SchemaFeatures(schema, indexOf, columnNames, taken)
            : LearnedFeatures(options, indexOf, columnNames, taken, available);
        if (_features.Length == 0)
        {
            throw new MlpToolsException(ErrorIds.DataColumnNotFound,
                $"There are no feature columns: the data has only {available}. A model needs at least one column besides the label or targets.");
        }
        _used = _features.Concat(_targets).Concat(_label is null ? Array.Empty<Column>() : new[] { _label }).OrderBy(c => c.InputIndex).ToArray();
        foreach (Column column in _used.Where(c => c.Kind is not null))
        {
            Allocate(column, column.Kind!.Value);
        }
    }

    /// <summary>A file's name, to say where a bad row is; set by the CSV reader.</summary>
    internal string? SourceName { get; set; }

    /// <summary>The file line the current row starts on, for the messages; 0 when rows do not come from a file.</summary>
    internal long CurrentLine { get; set; }

    /// <summary>Rows added so far.</summary>
    public int RowCount => _rowCount;

    /// <summary>The first empty or repeated (ignoring case) name, or null when every name is fine.</summary>
    internal static string? FindRepeatedName(IReadOnlyList<string> names)
    {
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        return names.FirstOrDefault(name => string.IsNullOrWhiteSpace(name) || !seen.Add(name));
    }

    private static Column[] SchemaFeatures(FeatureSchema schema, Dictionary<string, int> indexOf, IReadOnlyList<string> names, Dictionary<string, Role> taken)
    {
        var features = new Column[schema.Columns.Count];
        for (int i = 0; i < features.Length; i++)
        {
            FeatureColumn feature = schema.Columns[i];
            if (!indexOf.TryGetValue(feature.Name, out int index))
            {
                throw TabularErrors.FeatureMissing("the data", feature.Name, schema.Columns.Select(c => c.Name).ToArray());
            }
            if (taken.ContainsKey(feature.Name))
            {
                throw Conflict($"'{feature.Name}' is a feature of the model and cannot also be its label or target.");
            }
            features[i] = new Column(names[index], index, Role.Feature, feature.Kind);
            if (feature.Kind == ColumnKind.Categorical)
            {
                var categories = new CategoryTable();
                foreach (string category in feature.Categories)
                {
                    categories.GetOrAdd(category);
                }
                features[i].Categories = categories;
                features[i].FixedCategories = true;
            }
        }
        return features;
    }

    private static Column[] LearnedFeatures(TableBuilderOptions options, Dictionary<string, int> indexOf, IReadOnlyList<string> names,
        Dictionary<string, Role> taken, string available)
    {
        var categorical = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (string name in options.CategoricalColumns ?? Array.Empty<string>())
        {
            int index = IndexOrThrow(indexOf, name, "categorical column", available);
            if (taken.TryGetValue(names[index], out Role role) && role == Role.Target)
            {
                throw Conflict($"'{name}' is named both as a numeric target and as a categorical column.");
            }
            categorical.Add(names[index]);
        }

        IEnumerable<int> indices = options.FeatureColumns is null
            ? Enumerable.Range(0, names.Count).Where(i => !taken.ContainsKey(names[i]))
            : options.FeatureColumns.Select(name => IndexOrThrow(indexOf, name, "feature column", available));
        var features = new List<Column>();
        foreach (int index in indices)
        {
            if (taken.TryGetValue(names[index], out Role role))
            {
                throw Conflict(role == Role.Feature
                    ? $"The feature column '{names[index]}' is named twice."
                    : $"'{names[index]}' is the {(role == Role.Label ? "label" : "a target")} and cannot also be a feature.");
            }
            taken[names[index]] = Role.Feature;
            bool isCategorical = categorical.Contains(names[index]);
            features.Add(new Column(names[index], index, Role.Feature, isCategorical ? ColumnKind.Categorical : null));
        }
        return features.ToArray();
    }

    private static int IndexOrThrow(Dictionary<string, int> indexOf, string name, string what, string available) =>
        indexOf.TryGetValue(name, out int index)
            ? index
            : throw new MlpToolsException(ErrorIds.DataColumnNotFound,
                $"The {what} '{name}' is not in the data. The columns are {available}.", name);

    private static MlpToolsException Conflict(string message) => new(ErrorIds.DataColumnConflict, message);

    /// <summary>
    /// Adds a row of text cells (null or blank: missing), one per column in the order of the column names. Not an AddRow
    /// overload: a string[] converts to both spans (array covariance), so the call would be ambiguous.
    /// </summary>
    public void AddTextRow(ReadOnlySpan<string?> cells)
    {
        CheckWidth(cells.Length);
        BeginRow();
        foreach (Column column in _used)
        {
            AcceptText(column, cells[column.InputIndex]);
        }
        EndRow();
    }

    /// <summary>Adds a row of values (numbers, text, booleans, null), one per column in the order of the column names.</summary>
    public void AddRow(ReadOnlySpan<object?> values)
    {
        CheckWidth(values.Length);
        BeginRow();
        foreach (Column column in _used)
        {
            AcceptObject(column, values[column.InputIndex]);
        }
        EndRow();
    }

    /// <summary>The CSV reader's row: UTF-8 fields of <paramref name="record"/> at the given offsets, numbers parsed without a string.</summary>
    internal void AddRow(ReadOnlySpan<byte> record, ReadOnlySpan<int> starts, ReadOnlySpan<int> lengths)
    {
        CheckWidth(starts.Length);
        BeginRow();
        foreach (Column column in _used)
        {
            AcceptUtf8(column, record.Slice(starts[column.InputIndex], lengths[column.InputIndex]));
        }
        EndRow();
    }

    private void CheckWidth(int width)
    {
        if (width != _columnCount)
        {
            throw new ArgumentException($"A row must have one value per column ({_columnCount}), not {width}.");
        }
    }

    /// <summary>
    /// Starts a row at index <see cref="_rowCount"/>. A row that threw never reached <see cref="EndRow"/>: its cells are
    /// overwritten by this one, and the kinds it decided are undone here (or in Build).
    /// </summary>
    private void BeginRow()
    {
        UndoUnfinishedRow();
        _inputRows++;
        _rowOpen = true;
        if (_rowCount == _capacity)
        {
            if (_capacity == Array.MaxLength)
            {
                throw new MlpToolsException(ErrorIds.DataTooLarge,
                    $"The data has more than {Array.MaxLength} rows, more than one dataset can hold. Split it into several files.");
            }
            _capacity = (int)Math.Min(Array.MaxLength, Math.Max(1024L, _capacity * 2L));
            foreach (Column column in _used)
            {
                if (column.Numbers is not null)
                {
                    column.Numbers = Grow(column.Numbers);
                }
                if (column.Codes is not null)
                {
                    column.Codes = Grow(column.Codes);
                }
            }
        }
    }

    private T[] Grow<T>(T[] array)
    {
        Array.Resize(ref array, _capacity);
        return array;
    }

    private void EndRow()
    {
        _rowOpen = false;
        _decidedInThisRow.Clear();
        _rowCount++;
    }

    /// <summary>A column whose kind a failed row decided goes back to undecided: the row is not added, so neither is its verdict.</summary>
    private void UndoUnfinishedRow()
    {
        if (!_rowOpen)
        {
            return;
        }
        foreach (Column column in _decidedInThisRow)
        {
            column.Kind = null;
            column.Numbers = null;
            column.Codes = null;
            column.Categories = null;
        }
        _decidedInThisRow.Clear();
        _rowOpen = false;
    }

    private void Allocate(Column column, ColumnKind kind)
    {
        column.Kind = kind;
        if (kind == ColumnKind.Numeric)
        {
            column.Numbers = new float[_capacity];
            column.Numbers.AsSpan(0, _rowCount).Fill(MissingNumber);
        }
        else
        {
            column.Codes = new int[_capacity];
            column.Codes.AsSpan(0, _rowCount).Fill(MissingCode);
            column.Categories ??= new CategoryTable();
        }
    }

    private void Decide(Column column, ColumnKind kind)
    {
        Allocate(column, kind);
        _decidedInThisRow.Add(column);
    }

    private void AcceptUtf8(Column column, ReadOnlySpan<byte> utf8)
    {
        if (column.WantsNumber && CellValues.TryParseNumber(utf8, out float number))
        {
            AcceptNumber(column, number);
            return;
        }
        if (CellValues.IsBlank(utf8))
        {
            AcceptMissing(column);
            return;
        }
        Span<char> chars = utf8.Length <= 256 ? stackalloc char[256] : new char[Encoding.UTF8.GetMaxCharCount(utf8.Length)];
        int length = Encoding.UTF8.GetChars(utf8, chars);
        AcceptText(column, chars[..length]); // still blank when its spaces are Unicode ones (a no-break space)
    }

    private void AcceptText(Column column, ReadOnlySpan<char> text)
    {
        if (column.WantsNumber && CellValues.TryParseNumber(text, out float number))
        {
            AcceptNumber(column, number);
        }
        else if (text.IsWhiteSpace())
        {
            AcceptMissing(column);
        }
        else
        {
            AcceptNonNumber(column, text.Trim());
        }
    }

    private void AcceptObject(Column column, object? value)
    {
        switch (value)
        {
            case null:
                AcceptMissing(column);
                break;
            case string text:
                AcceptText(column, text);
                break;
            default:
                if (column.WantsNumber && CellValues.TryGetNumber(value, out float number))
                {
                    AcceptNumber(column, number);
                }
                else
                {
                    AcceptText(column, CellValues.ToText(value));
                }
                break;
        }
    }

    private void AcceptNumber(Column column, float number)
    {
        if (column.Kind is null)
        {
            Decide(column, ColumnKind.Numeric);
        }
        column.Numbers![_rowCount] = number;
    }

    /// <summary>Trimmed, non-empty text that is not a number (or is for a column that takes categories).</summary>
    private void AcceptNonNumber(Column column, ReadOnlySpan<char> text)
    {
        if (column.Role == Role.Target)
        {
            throw TabularErrors.TargetNotNumeric(Where(), column.Name, text.ToString());
        }
        if (column.Kind is null)
        {
            Decide(column, ColumnKind.Categorical);
        }
        else if (column.Kind == ColumnKind.Numeric)
        {
            throw TabularErrors.NotNumeric(Where(), column.Name, text.ToString());
        }
        if (!column.FixedCategories)
        {
            column.Codes![_rowCount] = column.Categories!.GetOrAdd(text);
            return;
        }
        int code = column.Categories!.IndexOf(text);
        if (code < 0 && _options.UnknownCategory == UnknownCategoryPolicy.Error)
        {
            throw TabularErrors.CategoryUnseen(Where(), column.Name, text.ToString(), column.Categories.Names);
        }
        column.Codes![_rowCount] = code < 0 ? IgnoredCode : code;
    }

    private void AcceptMissing(Column column)
    {
        bool isFeature = column.Role == Role.Feature;
        if (_options.Missing == MissingValuePolicy.Error || (_options.Missing == MissingValuePolicy.Fill && !isFeature))
        {
            throw TabularErrors.Missing(Where(), column.Name, isFeature);
        }
        // A column of undecided kind needs no mark: it is filled with missing marks when its kind is decided.
        if (column.Kind == ColumnKind.Numeric)
        {
            column.Numbers![_rowCount] = MissingNumber;
        }
        else if (column.Kind == ColumnKind.Categorical)
        {
            column.Codes![_rowCount] = MissingCode;
        }
    }

    private string Where() => CurrentLine > 0 ? $"row {_inputRows} (line {CurrentLine} of '{SourceName}')" : $"row {_inputRows}";
}
