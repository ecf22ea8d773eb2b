namespace MlpTools.Core.Training;

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

    internal void Validate()
    {
        Require(Epochs > 0, "Epochs", Epochs, "a positive number of epochs");
        Require(BatchSize > 0, "BatchSize", BatchSize, "a positive number of images per batch");
        Require(LearningRate > 0 && double.IsFinite(LearningRate), "LearningRate", LearningRate, "a positive finite number such as 1e-3");
        Require(Momentum >= 0 && Momentum < 1, "Momentum", Momentum, "at least 0 and below 1");
        Require(WeightDecay >= 0 && double.IsFinite(WeightDecay), "WeightDecay", WeightDecay, "zero or a positive finite number such as 1e-4");
        Require(StepSize > 0, "StepSize", StepSize, "a positive number of epochs");
        Require(Gamma > 0 && Gamma <= 1, "Gamma", Gamma, "above 0 and at most 1");
        Require(SchedulePatience > 0, "SchedulePatience", SchedulePatience, "a positive number of epochs");
        Require(Patience > 0, "Patience", Patience, "a positive number of epochs");
        Require(MinDelta >= 0 && double.IsFinite(MinDelta), "MinDelta", MinDelta, "zero or a positive finite number");
        Require(ValidationFraction >= 0 && ValidationFraction < 1, "ValidationFraction", ValidationFraction, "at least 0 and below 1");
    }

    private static void Require(bool condition, string name, object value, string what)
    {
        if (!condition)
        {
            throw new MlpToolsException("TrainingOptionInvalid", FailureKind.InvalidArgument, $"{name} must be {what}, not {value}.", value);
        }
    }
}
