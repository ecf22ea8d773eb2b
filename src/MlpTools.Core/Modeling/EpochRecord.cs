namespace MlpTools.Core.Modeling;

/// <summary>One epoch of training, as the notebook prints it and more. Flat, so Export-Csv keeps every field (in this order).</summary>
public sealed record EpochRecord
{
    // Required here and in a file's history: a record without them is damaged.
    public required string ModelName { get; init; }
    public int Epoch { get; init; }
    public int Epochs { get; init; }
    /// <summary>The mean training loss: cross-entropy, or for regression the mean squared error of the standardised targets.</summary>
    public double Loss { get; init; }
    /// <summary>Classification: the share of training examples classified right at the end of the epoch (null for regression).</summary>
    public double? TrainAccuracy { get; init; }
    public double? ValidationLoss { get; init; }
    public double? ValidationAccuracy { get; init; }
    public double Seconds { get; init; }
    public int BatchSize { get; init; }
    public double LearningRate { get; init; }
    public required string Optimizer { get; init; }
    public double WeightDecay { get; init; }
    /// <summary>λ/2·Σ‖W‖² at the end of the epoch: the lecture's regularisation term s.</summary>
    public double WeightPenalty { get; init; }
    public long Seed { get; init; }
    /// <summary>With early stopping: the epoch whose weights the model keeps so far.</summary>
    public int? BestEpoch { get; init; }
    /// <summary>Set on the last record of a run that stopped before its last epoch, saying why.</summary>
    public string? StopReason { get; init; }
    /// <summary>With gradient tracking: each layer's mean ‖∂J/∂W(l)‖ over the epoch's batches, input side first.</summary>
    public IReadOnlyList<double>? GradientNorms { get; init; }
    /// <summary>Regression: root mean squared error on the training set, in the targets' units (mean over targets).</summary>
    public double? TrainRmse { get; init; }
    /// <summary>Regression: the same on the validation set, with its mean absolute error and R².</summary>
    public double? ValidationRmse { get; init; }
    public double? ValidationMae { get; init; }
    public double? ValidationR2 { get; init; }

    /// <summary>The notebook's epoch line (RMSE instead of accuracy for regression).</summary>
    public override string ToString() => TrainAccuracy is double train
        ? $"epoch:[{Epoch}] loss:[{Loss:F3}] train_accr:[{train:F3}]" + (ValidationAccuracy is double v ? $" test_accr:[{v:F3}]." : ".")
        : $"epoch:[{Epoch}] loss:[{Loss:F3}] train_rmse:[{TrainRmse:G4}]" + (ValidationRmse is double r ? $" test_rmse:[{r:G4}] test_r2:[{ValidationR2:F3}]." : ".");
}
