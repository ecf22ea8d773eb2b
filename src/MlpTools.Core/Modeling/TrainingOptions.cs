using MlpTools.Core.Platform;

namespace MlpTools.Core.Modeling;

public enum OptimizerKind
{
    /// <summary>Adam; with weight decay the lecture's L2 term is added to the loss (coupled, as Adam's own weight_decay).</summary>
    Adam,
    /// <summary>Adam with decoupled weight decay: weights shrink by lr·λ each step, outside the adaptive update.</summary>
    AdamW,
    /// <summary>Stochastic gradient descent, with optional momentum; L2 in the loss equals weight decay here.</summary>
    SGD,
}

public enum LearningRateSchedule
{
    None,
    /// <summary>Multiply the learning rate by Gamma every StepSize epochs.</summary>
    Step,
    /// <summary>Multiply the learning rate by Gamma when the monitored loss has not improved for SchedulePatience epochs.</summary>
    ReduceOnPlateau,
}

/// <summary>The training recipe; every default is the lecture notebook's.</summary>
public sealed record TrainingOptions
{
    public int Epochs { get; init; } = 10;
    public int BatchSize { get; init; } = 256;
    public double LearningRate { get; init; } = 1e-3;
    /// <summary>Seed of the per-epoch shuffle and of dropout masks.</summary>
    public long Seed { get; init; }
    public OptimizerKind Optimizer { get; init; } = OptimizerKind.Adam;
    /// <summary>SGD's momentum.</summary>
    public double Momentum { get; init; }
    /// <summary>λ of the lecture's J = L + λ/2·Σ‖W‖² (weight matrices only, not biases).</summary>
    public double WeightDecay { get; init; }
    public LearningRateSchedule Schedule { get; init; } = LearningRateSchedule.None;
    public int StepSize { get; init; } = 5;
    public double Gamma { get; init; } = 0.1;
    public int SchedulePatience { get; init; } = 2;
    /// <summary>Stop when the validation loss has not improved by MinDelta for Patience epochs, and keep the best weights.</summary>
    public bool EarlyStopping { get; init; }
    public int Patience { get; init; } = 5;
    public double MinDelta { get; init; }
    /// <summary>Share of the training set held out for validation when no validation set is given.</summary>
    public double ValidationFraction { get; init; }
    /// <summary>Record each layer's mean gradient norm ‖∂J/∂W(l)‖ per epoch.</summary>
    public bool TrackGradient { get; init; }
    /// <summary>
    /// Leave out the pass over the training data after each epoch that measures TrainAccuracy (or TrainRmse): about a
    /// third of an epoch's time for the notebook's MLP.
    /// </summary>
    public bool SkipTrainEvaluation { get; init; }

    // The bounds of Invoke-MlpTraining's parameters, which a recipe read from a checkpoint must respect just the same.
    public const int MaxEpochs = 100_000;
    public const int MaxBatchSize = 1_000_000;
    public const double MinLearningRate = 1e-12;
    public const double MaxLearningRate = 1e3;
    public const double MaxWeightDecay = 1e3;
    public const double MinGamma = 1e-6;

    /// <summary>
    /// Refuses a recipe the trainer cannot run. With <paramref name="asParameters"/> (a recipe read from a file), also what
    /// only Invoke-MlpTraining's parameter validation refuses: a weight decay above <see cref="MaxWeightDecay"/>, which
    /// the engine itself allows for experiments.
    /// </summary>
    internal void Validate(bool asParameters = false)
    {
        Require(Epochs > 0 && Epochs <= MaxEpochs, "Epochs", Epochs, $"a number of epochs from 1 to {MaxEpochs}");
        Require(BatchSize > 0 && BatchSize <= MaxBatchSize, "BatchSize", BatchSize, $"a number of images per batch from 1 to {MaxBatchSize}");
        Require(LearningRate >= MinLearningRate && LearningRate <= MaxLearningRate, "LearningRate", LearningRate, $"from {MinLearningRate} to {MaxLearningRate}, such as 1e-3");
        Require(Enum.IsDefined(Optimizer), "Optimizer", Optimizer, $"one of {string.Join(", ", Enum.GetNames<OptimizerKind>())}");
        Require(Momentum >= 0 && Momentum < 1, "Momentum", Momentum, "at least 0 and below 1");
        Require(WeightDecay >= 0 && (asParameters ? WeightDecay <= MaxWeightDecay : double.IsFinite(WeightDecay)), "WeightDecay", WeightDecay,
            asParameters ? $"from 0 to {MaxWeightDecay}, such as 1e-4" : "zero or a positive finite number such as 1e-4");
        Require(Enum.IsDefined(Schedule), "LearningRateSchedule", Schedule, $"one of {string.Join(", ", Enum.GetNames<LearningRateSchedule>())}");
        Require(StepSize > 0 && StepSize <= MaxEpochs, "StepSize", StepSize, $"a number of epochs from 1 to {MaxEpochs}");
        Require(Gamma >= MinGamma && Gamma <= 1, "Gamma", Gamma, $"from {MinGamma} to 1");
        Require(SchedulePatience > 0 && SchedulePatience <= MaxEpochs, "SchedulePatience", SchedulePatience, $"a number of epochs from 1 to {MaxEpochs}");
        Require(Patience > 0 && Patience <= MaxEpochs, "Patience", Patience, $"a number of epochs from 1 to {MaxEpochs}");
        Require(MinDelta >= 0 && double.IsFinite(MinDelta), "MinDelta", MinDelta, "zero or a positive finite number");
        Require(ValidationFraction >= 0 && ValidationFraction < 1, "ValidationFraction", ValidationFraction, "at least 0 and below 1");
    }

    /// <summary>
    /// Whether <paramref name="other"/> is the same recipe, compared by its JSON so that every property counts, including
    /// ones added later and collections, which a record's equality compares by reference.
    /// </summary>
    internal bool SameRecipe(TrainingOptions other) =>
        ReferenceEquals(this, other) || PersistenceJson.Serialize(this).AsSpan().SequenceEqual(PersistenceJson.Serialize(other));

    private static void Require(bool condition, string name, object value, string what)
    {
        if (!condition)
        {
            throw new MlpToolsException(ErrorIds.TrainingOptionInvalid, $"{name} must be {what}, not {value}.", value);
        }
    }
}
