namespace MlpTools.Core.Training;

/// <summary>One epoch of training, as the notebook prints it and more. Flat, so Export-Csv keeps every field.</summary>
public sealed record EpochRecord(
    string ModelName,
    int Epoch,
    int Epochs,
    double Loss,
    double TrainAccuracy,
    double? ValidationLoss,
    double? ValidationAccuracy,
    double Seconds,
    int BatchSize,
    double LearningRate,
    string Optimizer,
    double WeightDecay,
    /// <summary>λ/2·Σ‖W‖² at the end of the epoch: the lecture's regularisation term s.</summary>
    double WeightPenalty,
    long Seed,
    /// <summary>With early stopping: the epoch whose weights the model keeps so far.</summary>
    int? BestEpoch,
    /// <summary>Set on the last record of a run that stopped before its last epoch, saying why.</summary>
    string? StopReason,
    /// <summary>With gradient tracking: each layer's mean ‖∂J/∂W(l)‖ over the epoch's batches, input side first.</summary>
    IReadOnlyList<double>? GradientNorms)
{
    /// <summary>The notebook's epoch line.</summary>
    public override string ToString() =>
        $"epoch:[{Epoch}] loss:[{Loss:F3}] train_accr:[{TrainAccuracy:F3}]" + (ValidationAccuracy is double v ? $" test_accr:[{v:F3}]." : ".");
}

/// <summary>How one class fared: correct predictions out of the examples with that label.</summary>
public sealed record ClassAccuracy(int Class, int Correct, int Total)
{
    public double Accuracy => Total == 0 ? double.NaN : (double)Correct / Total;
}

public sealed record AccuracyResult(string ModelName, string DatasetName, string Split, int Correct, int Total, IReadOnlyList<ClassAccuracy> PerClass)
{
    public double Accuracy => Total == 0 ? double.NaN : (double)Correct / Total;
}

/// <summary>The model's answer for one image: its most likely class and the softmax probability of it.</summary>
public sealed record Prediction(int Index, int Predicted, int Label, double Confidence)
{
    public bool Correct => Predicted == Label;
}

/// <summary>Where a long operation is, for progress reporting.</summary>
public readonly record struct TrainingProgress(int Epoch, int Epochs, int Batch, int Batches, double RunningLoss);
