namespace MlpTools.Core.Data.Tabular;

/// <summary>How a feature is encoded: one standardised number, or a one-hot block of its categories.</summary>
[System.Text.Json.Serialization.JsonConverter(typeof(System.Text.Json.Serialization.JsonStringEnumConverter<ColumnKind>))]
public enum ColumnKind
{
    Numeric,
    Categorical,
}

/// <summary>What to do with an empty cell (or a null property) in a feature, label or target column.</summary>
public enum MissingValuePolicy
{
    /// <summary>Stop with DataValueMissing naming the row and column.</summary>
    Error,
    /// <summary>Leave out every row with a missing value; a warning says how many, per column.</summary>
    DropRow,
    /// <summary>A numeric feature gets the mean of its present values, a categorical one its most frequent category.
    /// Labels and targets are never invented: a missing one is still DataValueMissing.</summary>
    Fill,
}

/// <summary>What to do with a category the model never saw in training.</summary>
public enum UnknownCategoryPolicy
{
    /// <summary>Stop with CategoryUnseen naming the value, the column and the known categories.</summary>
    Error,
    /// <summary>Encode the column's one-hot block as all zeros: the row is like none of the known categories.</summary>
    Ignore,
}

/// <summary>Which columns are features, label or targets, and how to treat missing values; names match case-insensitively.</summary>
public sealed class TableBuilderOptions
{
    /// <summary>Classification: the column whose values are the class names.</summary>
    public string? LabelColumn { get; init; }

    /// <summary>Regression: one or more numeric columns to predict. Not with <see cref="LabelColumn"/>.</summary>
    public IReadOnlyList<string>? TargetColumns { get; init; }

    /// <summary>The feature columns, in this order; null: every column that is not the label or a target, in the data's order.</summary>
    public IReadOnlyList<string>? FeatureColumns { get; init; }

    /// <summary>Columns encoded one-hot even when their values look numeric (codes, years, zip codes).</summary>
    public IReadOnlyList<string>? CategoricalColumns { get; init; }

    public MissingValuePolicy Missing { get; init; } = MissingValuePolicy.Error;

    /// <summary>
    /// True: a label or target column must be named and present. False (rows to predict): without one, or when the
    /// named label or targets are absent from the data, the rows are read unlabelled.
    /// </summary>
    public bool RequireLabel { get; init; } = true;

    /// <summary>
    /// Encode the features exactly as a trained model does (its columns, kinds and categories, in its order) instead of
    /// learning them from the data: for a test file read apart from its training file. <see cref="FeatureColumns"/> and
    /// <see cref="CategoricalColumns"/> are then ignored; a schema column absent from the data is FeatureMissing.
    /// </summary>
    public FeatureSchema? Schema { get; init; }

    /// <summary>With <see cref="Schema"/>: what a category the schema does not know becomes.</summary>
    public UnknownCategoryPolicy UnknownCategory { get; init; } = UnknownCategoryPolicy.Error;
}
