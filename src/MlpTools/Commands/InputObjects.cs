using System.Management.Automation;
using MlpTools.Core.Imaging;
using MlpTools.Core.Platform;

namespace MlpTools.Commands;

/// <summary>
/// Reads pipeline objects by property name, the PowerShell way: a prediction from Invoke-MlpPrediction and a row of
/// its CSV export (Import-Csv) both have Index, Predicted and Label, so both draw; so do epoch records and their rows.
/// </summary>
internal static class InputObjects
{
    /// <summary>A tile from anything with Index and Label, and Predicted when there is one.</summary>
    public static DigitTile ToTile(PSObject input, string cmdlet) => new(
        Required<int>(input, "Index", cmdlet, "a prediction from Invoke-MlpPrediction"),
        Required<int>(input, "Label", cmdlet, "a prediction from Invoke-MlpPrediction"),
        OptionalValue<int>(input, "Predicted", cmdlet));

    /// <summary>
    /// An epoch from anything with Epoch, Loss and TrainAccuracy (or, for regression, TrainRmse); the validation figures
    /// and ModelName when present.
    /// </summary>
    public static EpochPoint ToEpochPoint(PSObject input, string cmdlet)
    {
        const string what = "an epoch record from Invoke-MlpTraining";
        double? trainRmse = OptionalValue<double>(input, "TrainRmse", cmdlet);
        return new EpochPoint(
            OptionalText(input, "ModelName") ?? "",
            Required<int>(input, "Epoch", cmdlet, what),
            Required<double>(input, "Loss", cmdlet, what),
            trainRmse is null ? Required<double>(input, "TrainAccuracy", cmdlet, what) : OptionalValue<double>(input, "TrainAccuracy", cmdlet),
            OptionalValue<double>(input, "ValidationAccuracy", cmdlet))
        {
            ValidationLoss = OptionalValue<double>(input, "ValidationLoss", cmdlet),
            TrainRmse = trainRmse,
            ValidationRmse = OptionalValue<double>(input, "ValidationRmse", cmdlet),
        };
    }

    private static T Required<T>(PSObject input, string name, string cmdlet, string what)
    {
        object? value = input.Properties[name]?.Value;
        if (value is null || value is string { Length: 0 })
        {
            throw new MlpToolsException(ErrorIds.ImageInputInvalid,
                $"{cmdlet} needs objects with a {name} property, such as {what}; got {Describe(input)}.", input);
        }
        return Convert<T>(value, name, cmdlet, input);
    }

    private static string? OptionalText(PSObject input, string name) => input.Properties[name]?.Value?.ToString();

    private static T? OptionalValue<T>(PSObject input, string name, string cmdlet) where T : struct =>
        input.Properties[name]?.Value is object value and not string { Length: 0 } ? Convert<T>(value, name, cmdlet, input) : null;

    private static T Convert<T>(object value, string name, string cmdlet, PSObject input)
    {
        try
        {
            return LanguagePrimitives.ConvertTo<T>(value);
        }
        catch (PSInvalidCastException e)
        {
            throw new MlpToolsException(ErrorIds.ImageInputInvalid,
                $"{cmdlet} cannot read {name} = '{value}' of {Describe(input)} as {typeof(T).Name}.", input, e);
        }
    }

    private static string Describe(PSObject input) => input.BaseObject is PSCustomObject
        ? $"an object with the properties {string.Join(", ", input.Properties.Select(p => p.Name))}"
        : $"a {input.BaseObject.GetType().Name}";
}
