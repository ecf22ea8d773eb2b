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

    /// <summary>
    /// A trial from anything with Trial and ValidationAccuracy (or, for regression, ValidationRmse), and Parameters (a
    /// dictionary, or an object whose properties are the parameters, as ConvertFrom-Json gives the result file's lines).
    /// </summary>
    public static SweepPoint ToSweepPoint(PSObject input, string cmdlet)
    {
        const string what = "a trial record from Invoke-MlpSweep";
        double? rmse = OptionalValue<double>(input, "ValidationRmse", cmdlet);
        var parameters = new SortedDictionary<string, object>(StringComparer.Ordinal);
        switch (input.Properties["Parameters"]?.Value is { } value ? PSObject.AsPSObject(value) : null)
        {
            case { BaseObject: System.Collections.IDictionary table }:
                foreach (System.Collections.DictionaryEntry entry in table)
                {
                    parameters[entry.Key.ToString()!] = ParameterValue(entry.Value);
                }
                break;
            case { BaseObject: PSCustomObject } properties:
                foreach (var property in properties.Properties)
                {
                    parameters[property.Name] = ParameterValue(property.Value);
                }
                break;
        }
        return new SweepPoint(
            Required<int>(input, "Trial", cmdlet, what),
            rmse is null ? Required<double>(input, "ValidationAccuracy", cmdlet, what) : OptionalValue<double>(input, "ValidationAccuracy", cmdlet),
            rmse,
            parameters)
        {
            ValidationLoss = OptionalValue<double>(input, "ValidationLoss", cmdlet),
        };
    }

    /// <summary>A number as a double; sizes as @(512,256), as Invoke-MlpSweep names its trials; anything else as text.</summary>
    private static object ParameterValue(object? value) => (value is PSObject wrapped ? wrapped.BaseObject : value) switch
    {
        null => "",
        var number when number is byte or short or int or long or float or double or decimal => System.Convert.ToDouble(number, System.Globalization.CultureInfo.InvariantCulture),
        string text => text,
        System.Collections.IEnumerable items => "@(" + string.Join(",", items.Cast<object>().Select(ParameterValue).Select(v => SweepChart.Label(v))) + ")",
        var other => System.Convert.ToString(other, System.Globalization.CultureInfo.InvariantCulture) ?? "",
    };

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
