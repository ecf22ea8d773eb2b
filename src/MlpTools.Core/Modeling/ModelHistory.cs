using MlpTools.Core.Data;

namespace MlpTools.Core.Modeling;

/// <summary>
/// What a model remembers about its past: every training run (the recipe, fingerprints of the data, one record
/// per epoch) and, for a model read from a file, where it came from. Model files carry it, so a maintainer can
/// tell later how a model was made.
/// </summary>
public sealed class ModelHistory
{
    private readonly object _gate = new();
    // Replaced, never changed in place, so a reader in another runspace always sees a consistent list.
    private IReadOnlyList<TrainingRun> _runs = Array.Empty<TrainingRun>();

    public IReadOnlyList<TrainingRun> Runs => _runs;

    /// <summary>Every epoch the model was trained for, across runs, oldest first.</summary>
    public IReadOnlyList<EpochRecord> Epochs => _runs.SelectMany(r => r.Epochs).ToArray();

    public EpochRecord? LastEpoch => _runs.Count == 0 ? null : _runs[^1].Epochs[^1];

    /// <summary>The file the model was imported from, or null for a model made in this session.</summary>
    public ModelOrigin? Origin { get; internal set; }

    /// <summary>
    /// The trainer's one call, after each epoch: adds the record to the current run, or starts a new run when the
    /// recipe, the data or the run's epoch target changed, or the epochs are not consecutive.
    /// </summary>
    internal void Record(EpochRecord record, TrainingOptions options, MlpDataset train, MlpDataset? validation)
    {
        var trainData = DatasetFingerprint.Of(train);
        var validationData = validation is null ? null : DatasetFingerprint.Of(validation);
        lock (_gate)
        {
            var runs = _runs.ToList();
            TrainingRun? current = runs.Count == 0 ? null : runs[^1];
            if (current is not null && current.Continues(record, options, trainData, validationData))
            {
                runs[^1] = current with { Epochs = current.Epochs.Append(record).ToArray() };
            }
            else
            {
                runs.Add(new TrainingRun(DateTimeOffset.UtcNow, options, trainData, validationData, new[] { record }));
            }
            _runs = runs;
        }
    }

    /// <summary>Replaces the history with one read from a file.</summary>
    internal void Restore(IEnumerable<TrainingRun> runs, ModelOrigin? origin)
    {
        lock (_gate)
        {
            _runs = runs.Where(r => r.Epochs.Count > 0).ToArray();
            Origin = origin;
        }
    }

    public override string ToString() => _runs.Count == 0
        ? "untrained"
        : $"{_runs.Count} run(s), {_runs.Sum(r => r.Epochs.Count)} epoch(s); last loss {LastEpoch!.Loss:G4}";
}

/// <summary>One call of the trainer: its recipe, the data it saw, and its epochs as they ended.</summary>
public sealed record TrainingRun(
    DateTimeOffset Started,
    TrainingOptions Options,
    DatasetFingerprint TrainData,
    DatasetFingerprint? ValidationData,
    IReadOnlyList<EpochRecord> Epochs)
{
    internal bool Continues(EpochRecord record, TrainingOptions options, DatasetFingerprint trainData, DatasetFingerprint? validationData)
    {
        EpochRecord last = Epochs[^1];
        return record.Epoch == last.Epoch + 1 && record.Epochs == last.Epochs &&
               options.SameRecipe(Options) &&
               trainData.SameData(TrainData) &&
               (validationData is null ? ValidationData is null : validationData.SameData(ValidationData));
    }
}

/// <summary>Where an imported model came from: the file, its format and what wrote it.</summary>
public sealed record ModelOrigin(
    string Path,
    ModelFileFormat Format,
    int? FormatVersion,
    DateTimeOffset? Created,
    string? MlpToolsVersion,
    string? TorchSharpVersion,
    string FileSha256);
