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
/// <remarks><see cref="PredictedCount"/> is how many images of any label the model answered with this class, for precision.</remarks>
public sealed record ClassAccuracy(int Class, int Correct, int Total, int PredictedCount)
{
    /// <summary>Correct out of the images with this label; the same as <see cref="Recall"/>.</summary>
    public double Accuracy => Total == 0 ? double.NaN : (double)Correct / Total;
    /// <summary>Of the images the model called this class, the fraction that were: NaN when it never answered it.</summary>
    public double Precision => PredictedCount == 0 ? double.NaN : (double)Correct / PredictedCount;
    /// <summary>Of the images of this class, the fraction the model found.</summary>
    public double Recall => Accuracy;
    /// <summary>The harmonic mean of precision and recall: NaN when either is, 0 when both are 0.</summary>
    public double F1 => double.IsNaN(Precision) || double.IsNaN(Recall) ? double.NaN
        : Precision + Recall == 0 ? 0 : 2 * Precision * Recall / (Precision + Recall);
}

/// <summary>A model measured on a dataset: overall, per class, and which classes it takes for which.</summary>
public sealed record AccuracyResult(string ModelName, string DatasetName, string Split, int Correct, int Total, IReadOnlyList<ClassAccuracy> PerClass,
    ConfusionMatrix ConfusionMatrix)
{
    public double Accuracy => Total == 0 ? double.NaN : (double)Correct / Total;

    /// <summary>Throws AccuracyBelowMinimum unless <see cref="Accuracy"/> is at least <paramref name="minimum"/> (an empty dataset never is).</summary>
    public void EnsureAtLeast(double minimum)
    {
        if (!(Accuracy >= minimum))
        {
            throw new MlpToolsException("AccuracyBelowMinimum", FailureKind.InvalidResult,
                $"Model '{ModelName}' classified {Correct} of {Total} images of '{DatasetName}' ({Split}) right: accuracy {Accuracy:F4} is below the minimum {minimum:F4}. " +
                "Train it longer or differently, or check that the dataset is the one it was meant for.", this);
        }
    }
}

/// <summary>The model's answer for one image: its most likely class and the softmax probability of it.</summary>
public sealed record Prediction(int Index, int Predicted, int Label, double Confidence)
{
    public bool Correct => Predicted == Label;
}

/// <summary>Where a long operation is, for progress reporting.</summary>
public readonly record struct TrainingProgress(int Epoch, int Epochs, int Batch, int Batches, double RunningLoss);
