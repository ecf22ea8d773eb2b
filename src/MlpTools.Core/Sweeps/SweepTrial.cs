using MlpTools.Core.Platform;
using MlpTools.Core.Training;
using System.Text.Json;

namespace MlpTools.Core.Sweeps;

/// <summary>
/// One combination of parameter values. Its <see cref="Key"/> is a hash of the values alone (not of its place in the
/// sweep), so a resumed sweep recognises a trial it has already run however the trials are ordered or scheduled.
/// </summary>
public sealed class SweepTrial
{
    /// <summary>The most trials one sweep runs: a grid larger than this is almost surely a mistake.</summary>
    public const int MaxTrials = 100_000;

    private SweepTrial(int number, IReadOnlyDictionary<string, object> parameters, string key)
    {
        Number = number;
        Parameters = parameters;
        Key = key;
    }

    public static SweepTrial Create(int number, IEnumerable<KeyValuePair<string, object>> parameters)
    {
        var sorted = new SortedDictionary<string, object>(parameters.ToDictionary(p => p.Key, p => p.Value), StringComparer.Ordinal);
        return new SweepTrial(number, sorted, KeyOf(sorted));
    }

    /// <summary>The trial's place in the sweep, from 1.</summary>
    public int Number { get; }
    /// <summary>Parameter name to value, ordered by name.</summary>
    public IReadOnlyDictionary<string, object> Parameters { get; }
    /// <summary>16 hex digits of the SHA-256 of the parameters' canonical JSON.</summary>
    public string Key { get; }

    internal static string KeyOf(IReadOnlyDictionary<string, object> sortedParameters) =>
        SweepValues.Sha256(SweepValues.ToJson(json => WriteParameters(json, sortedParameters)))[..16];

    internal static void WriteParameters(Utf8JsonWriter json, IReadOnlyDictionary<string, object> parameters)
    {
        json.WriteStartObject();
        foreach (var (name, value) in parameters)
        {
            json.WritePropertyName(name);
            SweepValues.Write(json, value);
        }
        json.WriteEndObject();
    }

    public override string ToString() => $"trial {Number} ({string.Join(", ", Parameters.Select(p => $"{p.Key}={Show(p.Value)}"))})";

    internal static string Show(object value) => value switch
    {
        int[] sizes => "@(" + string.Join(",", sizes) + ")",
        double d => d.ToString("G6", System.Globalization.CultureInfo.InvariantCulture),
        _ => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "",
    };
}

/// <summary>What a trial reports of one epoch: enough to pick the model it keeps and say how good it is.</summary>
public sealed record TrialEpoch(int Epoch, double? ValidationLoss, double? ValidationAccuracy, double? ValidationRmse, int? BestEpoch);

/// <summary>
/// A finished trial: its parameters and the validation scores of the model it ends with (with early stopping, the best
/// epoch's weights, which the model keeps; otherwise the last epoch's), as one line of the result file.
/// </summary>
public sealed record SweepTrialResult(
    int Trial,
    string Key,
    IReadOnlyDictionary<string, object> Parameters,
    /// <summary>Classification: the share of validation examples classified right (null for regression).</summary>
    double? ValidationAccuracy,
    double? ValidationLoss,
    /// <summary>Regression: the root mean squared error on the validation set, in the targets' units.</summary>
    double? ValidationRmse,
    int EpochsRun,
    /// <summary>The epoch with the lowest validation loss.</summary>
    int BestEpoch,
    double Seconds,
    /// <summary>Where it ran: "local" or a session's computer name and session name.</summary>
    string Location,
    long Seed) : IValidationScored
{
    /// <summary>True for a trial read from the result file of an earlier run (-Resume), not run again.</summary>
    public bool FromResultFile { get; init; }

    /// <summary>Summarises a trial's epochs. Throws when there are none or they carry no validation scores.</summary>
    public static SweepTrialResult Of(SweepTrial trial, IReadOnlyList<TrialEpoch> epochs, double seconds, string location, long seed)
    {
        if (epochs.Count == 0 || epochs.Any(e => e.ValidationLoss is null))
        {
            throw new MlpToolsException(ErrorIds.SweepTrialFailed,
                $"{trial} ended without validation scores for every epoch, so it cannot be compared. Check -ValidationDataset.", trial.Key);
        }
        TrialEpoch last = epochs[^1];
        // With early stopping the model keeps the weights of the epoch the last record names; otherwise its last epoch's.
        TrialEpoch kept = last.BestEpoch is int keptEpoch ? epochs.First(e => e.Epoch == keptEpoch) : last;
        TrialEpoch best = epochs.MinBy(e => e.ValidationLoss!.Value)!;
        return new SweepTrialResult(trial.Number, trial.Key, trial.Parameters, kept.ValidationAccuracy, kept.ValidationLoss, kept.ValidationRmse,
            last.Epoch, best.Epoch, seconds, location, seed);
    }

    /// <summary>The best of several results (<see cref="ValidationRanking"/>); null for none.</summary>
    public static SweepTrialResult? Best(IEnumerable<SweepTrialResult> results) => ValidationRanking.Best(results);

    public override string ToString() => $"trial {Trial}: " + (ValidationAccuracy is double accuracy
        ? $"validation accuracy {accuracy:F4}" : $"validation RMSE {ValidationRmse:G4}") + $", loss {ValidationLoss:F4}";
}
