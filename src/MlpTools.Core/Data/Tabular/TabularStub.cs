// STUB of the tabular helper's API, replaced by its branch at merge.
namespace MlpTools.Core.Data.Tabular;

public enum ColumnKind { Numeric, Categorical }
public enum MissingValuePolicy { Error, DropRow, Fill }
public enum UnknownCategoryPolicy { Error, Ignore }

public sealed record FeatureColumn(string Name, ColumnKind Kind, IReadOnlyList<string> Categories);

public sealed class FeatureSchema
{
    public FeatureSchema(IReadOnlyList<FeatureColumn> columns)
    {
        Columns = columns;
        EncodedNames = columns.SelectMany(c => c.Kind == ColumnKind.Numeric ? new[] { c.Name } : c.Categories.Select(k => $"{c.Name}={k}")).ToArray();
        NumericMask = columns.SelectMany(c => c.Kind == ColumnKind.Numeric ? new[] { true } : c.Categories.Select(_ => false)).ToArray();
    }
    public IReadOnlyList<FeatureColumn> Columns { get; }
    public int EncodedWidth => EncodedNames.Count;
    public IReadOnlyList<string> EncodedNames { get; }
    public IReadOnlyList<bool> NumericMask { get; }
    public void EncodeRow(Func<string, object?> valueOf, long rowNumber, Span<float> destination, UnknownCategoryPolicy unknown) => throw new NotImplementedException();
}

public sealed class TabularData
{
    public TabularData(FeatureSchema schema, int rowCount, float[] features, string? labelName, int[]? labelIndices, IReadOnlyList<string>? classNames, IReadOnlyList<string>? targetNames, float[]? targets)
    {
        Schema = schema; RowCount = rowCount; Features = features; LabelName = labelName; LabelIndices = labelIndices; ClassNames = classNames; TargetNames = targetNames; Targets = targets;
    }
    public FeatureSchema Schema { get; }
    public int RowCount { get; }
    public float[] Features { get; }
    public string? LabelName { get; }
    public int[]? LabelIndices { get; }
    public IReadOnlyList<string>? ClassNames { get; }
    public IReadOnlyList<string>? TargetNames { get; }
    public float[]? Targets { get; }
    public IReadOnlyList<string> Warnings { get; } = Array.Empty<string>();
}

public sealed class TableBuilderOptions
{
    public string? LabelColumn { get; init; }
    public IReadOnlyList<string>? TargetColumns { get; init; }
    public IReadOnlyList<string>? FeatureColumns { get; init; }
    public IReadOnlyList<string>? CategoricalColumns { get; init; }
    public MissingValuePolicy Missing { get; init; }
    public bool RequireLabel { get; init; }
}

public sealed class TableBuilder
{
    public TableBuilder(IReadOnlyList<string> columnNames, TableBuilderOptions options) => throw new NotImplementedException();
    public void AddRow(ReadOnlySpan<string?> cells) => throw new NotImplementedException();
    public void AddRow(ReadOnlySpan<object?> values) => throw new NotImplementedException();
    public TabularData Build(string sourceDescription) => throw new NotImplementedException();
}

public static class CsvTableReader
{
    public static TabularData Read(string path, char delimiter, TableBuilderOptions options, IProgress<double>? progress, CancellationToken cancel) => throw new NotImplementedException();
}
