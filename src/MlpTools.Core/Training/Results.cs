using MlpTools.Core.Platform;

namespace MlpTools.Core.Training;

/// <summary>How one class fared: correct predictions out of the examples with that label.</summary>
/// <remarks><see cref="PredictedCount"/> is how many images of any label the model answered with this class, for precision.</remarks>
public sealed record ClassAccuracy(int Class, int Correct, int Total, int PredictedCount)
{
    /// <summary>The class's name ("7" for MNIST's digit 7, "setosa" for a flower species).</summary>
    public string Name { get; init; } = Class.ToString(System.Globalization.CultureInfo.InvariantCulture);
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
            throw new MlpToolsException(ErrorIds.AccuracyBelowMinimum,
                $"Model '{ModelName}' classified {Correct} of {Total} images of '{DatasetName}' ({Split}) right: accuracy {Accuracy:F4} is below the minimum {minimum:F4}. " +
                "Train it longer or differently, or check that the dataset is the one it was meant for.", this);
        }
    }
}

/// <summary>How a regression model fared on one target: errors in the target's own units, and R² (1 is perfect, 0 is no better than the mean).</summary>
public sealed record TargetMetrics(string Target, double Rmse, double Mae, double R2);

/// <summary>A regression model measured on a dataset: RMSE, MAE and R² over all targets (their mean) and per target.</summary>
public sealed record RegressionResult(string ModelName, string DatasetName, string Split, int Total, double Loss, IReadOnlyList<TargetMetrics> PerTarget)
{
    public double Rmse => PerTarget.Average(t => t.Rmse);
    public double Mae => PerTarget.Average(t => t.Mae);
    public double R2 => PerTarget.Average(t => t.R2);
}

/// <summary>The model's answer for one example: its most likely class (index and name) and the softmax probability of it.</summary>
public sealed record Prediction(int Index, int Predicted, int Label, double Confidence)
{
    /// <summary>False also when the example has no label (Label -1).</summary>
    public bool Correct => Predicted == Label;
    public string PredictedClass { get; init; } = Predicted.ToString(System.Globalization.CultureInfo.InvariantCulture);
    /// <summary>Null when the example has no label.</summary>
    public string? LabelClass { get; init; }
    /// <summary>The probability of every class, by class index.</summary>
    public IReadOnlyList<double> Probabilities { get; init; } = Array.Empty<double>();

    // Two predictions are equal when every answer is, the probabilities compared value by value (not as array references).
    public bool Equals(Prediction? other) => other is not null && Index == other.Index && Predicted == other.Predicted && Label == other.Label &&
        Confidence.Equals(other.Confidence) && PredictedClass == other.PredictedClass && LabelClass == other.LabelClass &&
        Probabilities.SequenceEqual(other.Probabilities);

    public override int GetHashCode() => HashCode.Combine(Index, Predicted, Label, Confidence);
}

/// <summary>A regression model's answer for one example: the estimate of each target, and the true values when the dataset has them.</summary>
public sealed record RegressionPrediction(int Index, IReadOnlyList<string> Targets, IReadOnlyList<double> Predicted, IReadOnlyList<double>? Actual);

/// <summary>The answer for one row of raw features (an object, a CSV row, an image file): classification fills the first three, regression Values.</summary>
public sealed record RowPrediction(int ClassIndex, string? ClassName, double Confidence, IReadOnlyList<double> Probabilities, IReadOnlyList<double>? Values);

/// <summary>Where a long operation is, for progress reporting.</summary>
public readonly record struct TrainingProgress(int Epoch, int Epochs, int Batch, int Batches, double RunningLoss);
