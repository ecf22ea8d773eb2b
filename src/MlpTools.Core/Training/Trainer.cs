using MlpTools.Core.Data;
using MlpTools.Core.Modeling;
using MlpTools.Core.Platform;
using static TorchSharp.torch;

namespace MlpTools.Core.Training;

/// <summary>
/// The notebook's training loop (Adam, cross-entropy, a fresh shuffle every epoch) and the lecture's
/// regularisers around it: the L2 term, dropout, early stopping, learning-rate schedules.
/// </summary>
public static class Trainer
{
    /// <summary>
    /// Trains <paramref name="model"/> in place and yields a record as each epoch ends. Cancelling stops
    /// between batches; the model then holds the weights of the last completed batch. With a <paramref name="checkpoint"/>,
    /// a checkpoint file is written after every epoch, and a run resumed from one goes on where it stopped. With a
    /// <paramref name="device"/>, the model moves there to train and stays there; without one, it trains where it is.
    /// With <paramref name="shares"/> above 1 (<see cref="TrainingThreads.Plan"/>), that many threads share the rows
    /// of each batch and of each evaluation; a model with dropout is refused.
    /// </summary>
    public static IEnumerable<EpochRecord> Train(MlpModel model, MlpDataset train, MlpDataset? validation, TrainingOptions options,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancel = default, SessionCheckpoint? checkpoint = null,
        ComputeDevice? device = null, int shares = 1)
    {
        options.Validate();
        model.RequireNetwork("training");
        if (shares < 1 || (shares > 1 && model.DropoutLayers.Any()))
        {
            throw new ArgumentOutOfRangeException(nameof(shares), shares, "At least 1, and 1 for a model with dropout (its masks come from one generator, in order).");
        }
        if (device is { } wanted)
        {
            ComputeDevices.Require(wanted);
        }
        if (train.Count == 0)
        {
            throw new MlpToolsException(ErrorIds.DatasetEmpty,
                $"Dataset '{train.Name}' ({train.Split}) has no images to train on.", train);
        }
        var (used, usedValidation) = (train, validation);
        if (options.ValidationFraction > 0)
        {
            if (validation is not null)
            {
                throw new MlpToolsException(ErrorIds.ValidationSourceAmbiguous,
                    "Give either a validation dataset or a validation fraction of the training set, not both.", options.ValidationFraction);
            }
            (used, usedValidation) = HoldOut(train, options.ValidationFraction, options.Seed);
        }
        if (options.EarlyStopping && usedValidation is null)
        {
            throw new MlpToolsException(ErrorIds.EarlyStoppingNeedsValidation,
                "Early stopping watches the loss on data the model does not train on. Give -ValidationDataset, or -ValidationFraction to hold out part of the training set.", used);
        }
        if (!used.HasAnswers)
        {
            throw new MlpToolsException(ErrorIds.DatasetUnlabelled,
                $"Dataset '{used.Name}' ({used.Split}) has no labels or targets to train on. Build it with -LabelProperty or -TargetProperty (-LabelColumn or -TargetColumn).", used);
        }
        // A model made from sizes alone reads its first training data the way that data asks; after that, data must fit it.
        var preprocessing = model.Preprocessing.FromData || model.EpochsTrained > 0 ? model.Preprocessing : Preprocessing.Of(used, model.OutputSize);
        var trainBinding = preprocessing.Bind(used, model.Name, model.InputSize, model.OutputSize);
        if (usedValidation is not null)
        {
            preprocessing.Bind(usedValidation, model.Name, model.InputSize, model.OutputSize);
        }
        // Standardisation is fitted once, on the first training data (after any hold-out), and kept from then on.
        preprocessing = preprocessing.IsFitted ? preprocessing : preprocessing.FittedOn(used, trainBinding);
        TorchRuntime.EnsureAvailable();
        return Run(model, preprocessing, device, () => new TrainingSession(model, train, validation, used, usedValidation, options, shares), progress, cancel, checkpoint);
    }

    /// <summary>Splits off a seeded random <paramref name="fraction"/> of <paramref name="dataset"/> for validation.</summary>
    private static (MlpDataset Train, MlpDataset Validation) HoldOut(MlpDataset dataset, double fraction, long seed)
    {
        int held = (int)Math.Round(dataset.Count * fraction);
        if (held == 0 || held == dataset.Count)
        {
            throw new MlpToolsException(ErrorIds.ValidationFractionInvalid,
                $"A validation fraction of {fraction} of {dataset.Count} images leaves {held} for validation and {dataset.Count - held} for training; both need at least one.", fraction);
        }
        int[] order = Enumerable.Range(0, dataset.Count).ToArray();
        new Random(unchecked((int)seed)).Shuffle(order);
        return (dataset.Subset(order[held..], dataset.Split), dataset.Subset(order[..held], "Validation"));
    }

    /// <summary>
    /// Lazily, as the caller enumerates: the model is leased, takes its preprocessing and device, and only then are its data
    /// tensors made (on that device).
    /// </summary>
    private static IEnumerable<EpochRecord> Run(MlpModel model, Preprocessing preprocessing, ComputeDevice? device, Func<TrainingSession> start,
        IProgress<TrainingProgress>? progress, CancellationToken cancel, SessionCheckpoint? checkpoint)
    {
        using var lease = model.Acquire("training");
        model.Preprocessing = preprocessing;
        if (device is { } target)
        {
            model.MoveTo(target);
        }
        using var session = start();
        foreach (var record in session.Run(progress, cancel, checkpoint))
        {
            yield return record;
        }
    }

    /// <summary>Cross-entropy for classes (the notebook's), mean squared error of the standardised targets for regression.</summary>
    internal static Tensor Loss(MlpTask task, Tensor outputs, Tensor answers) => task == MlpTask.Regression
        ? nn.functional.mse_loss(outputs, answers)
        : nn.functional.cross_entropy(outputs, answers);
}
