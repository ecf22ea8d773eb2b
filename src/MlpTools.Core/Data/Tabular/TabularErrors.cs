using MlpTools.Core.Platform;

namespace MlpTools.Core.Data.Tabular;

/// <summary>
/// The errors about one cell, shared by the CSV reader, the object path and prediction, so each reads the same
/// wherever it comes from. <c>where</c> is "row 12" or "row 12 (line 13 of 'data.csv')"; the target is the column.
/// </summary>
internal static class TabularErrors
{
    private const string CategoricalHint =
        "name the column with -CategoricalColumn (Import-MlpDataset) or -CategoricalProperty (ConvertTo-MlpDataset) to encode it as categories";

    public static MlpToolsException NotNumeric(string where, string column, string value) =>
        new(ErrorIds.DataValueNotNumeric,
            $"In {where}, column '{column}' holds '{value}', which is not a number, but the column is numeric (its first value was a number). " +
            $"Correct the value, or {CategoricalHint}.", column);

    public static MlpToolsException NotNumericForModel(string where, string column, string value) =>
        new(ErrorIds.DataValueNotNumeric,
            $"In {where}, feature '{column}' holds '{value}', which is not a number; the model was trained with numbers in it. Correct the value.", column);

    public static MlpToolsException TargetNotNumeric(string where, string column, string value) =>
        new(ErrorIds.TargetNotNumeric,
            $"In {where}, target column '{column}' holds '{value}', which is not a number. A regression target must be numeric in every row: " +
            "correct the value, or to predict classes name it as the label (-LabelColumn / -LabelProperty) instead.", column);

    public static MlpToolsException Missing(string where, string column, bool isFeature) =>
        new(ErrorIds.DataValueMissing,
            isFeature
                ? $"In {where}, column '{column}' is empty. Use -MissingValue DropRow to leave out rows with missing values, or -MissingValue Fill " +
                  "to fill them with the column's mean (numbers) or its most frequent value (categories)."
                : $"In {where}, column '{column}' is empty, and it is what the model learns to predict. Use -MissingValue DropRow to leave out " +
                  "rows without it (Fill does not invent labels or targets), or fill it in.", column);

    public static MlpToolsException MissingForModel(string where, string column) =>
        new(ErrorIds.DataValueMissing,
            $"In {where}, feature '{column}' is empty; the model needs a value for every feature it was trained with. Fill it in.", column);

    public static MlpToolsException FeatureMissing(string where, string column, IReadOnlyList<string> features) =>
        new(ErrorIds.FeatureMissing,
            $"{Capitalise(where)} has no '{column}', a feature the model was trained with. Give every row the features {CellValues.Quote(features)}.", column);

    public static MlpToolsException CategoryUnseen(string where, string column, string value, IReadOnlyList<string> known) =>
        new(ErrorIds.CategoryUnseen,
            $"In {where}, column '{column}' holds '{value}', a category never seen in training (known: {CellValues.Quote(known)}). " +
            "Correct the value, or use -UnknownCategory Ignore to encode it as none of the known categories (all zeros in its one-hot block).", column);

    private static string Capitalise(string text) => text.Length == 0 ? text : char.ToUpperInvariant(text[0]) + text[1..];
}
