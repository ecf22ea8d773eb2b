namespace MlpTools.Core.Data.Tabular;

/// <summary>
/// Rows of a table encoded for a model: raw features (one-hot categories, numbers not yet standardised) in one
/// row-major float array, and either class indices (classification), numeric targets (regression) or neither
/// (rows to predict). Memory is the arrays: no object per cell.
/// </summary>
public sealed class TabularData
{
    public TabularData(FeatureSchema schema, int rowCount, float[] features, string? labelName, int[]? labelIndices,
        IReadOnlyList<string>? classNames, IReadOnlyList<string>? targetNames, float[]? targets, IReadOnlyList<string> warnings)
    {
        if (features.Length != (long)rowCount * schema.EncodedWidth)
        {
            throw new ArgumentException($"{rowCount} rows of {schema.EncodedWidth} features need {(long)rowCount * schema.EncodedWidth} values, not {features.Length}.", nameof(features));
        }
        if ((labelIndices is null) != (classNames is null) || (labelIndices is not null && labelIndices.Length != rowCount))
        {
            throw new ArgumentException("Class indices need class names and one index per row.", nameof(labelIndices));
        }
        if ((targets is null) != (targetNames is null) || (targets is not null && targets.Length != (long)rowCount * targetNames!.Count))
        {
            throw new ArgumentException("Targets need target names and one value per row and target.", nameof(targets));
        }
        Schema = schema;
        RowCount = rowCount;
        Features = features;
        LabelName = labelName;
        LabelIndices = labelIndices;
        ClassNames = classNames;
        TargetNames = targetNames;
        Targets = targets;
        Warnings = warnings;
    }

    public FeatureSchema Schema { get; }
    public int RowCount { get; }

    /// <summary><see cref="RowCount"/> x <see cref="FeatureSchema.EncodedWidth"/>, row-major, not standardised.</summary>
    public float[] Features { get; }

    /// <summary>Classification: the label column's name; null otherwise.</summary>
    public string? LabelName { get; }

    /// <summary>Classification: each row's index into <see cref="ClassNames"/>.</summary>
    public int[]? LabelIndices { get; }

    /// <summary>Classification: the class names in a stable order (by value when all are integers, otherwise ordinal).</summary>
    public IReadOnlyList<string>? ClassNames { get; }

    /// <summary>Regression: the target columns' names.</summary>
    public IReadOnlyList<string>? TargetNames { get; }

    /// <summary>Regression: <see cref="RowCount"/> x TargetNames.Count, row-major.</summary>
    public float[]? Targets { get; }

    /// <summary>What a user should know about how the data was read (rows dropped, values filled), one sentence each.</summary>
    public IReadOnlyList<string> Warnings { get; }
}
