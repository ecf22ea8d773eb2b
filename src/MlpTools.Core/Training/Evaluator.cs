using MlpTools.Core.Data;
using MlpTools.Core.Modeling;
using MlpTools.Core.Platform;
using static TorchSharp.torch;

namespace MlpTools.Core.Training;

/// <summary>
/// Accuracy, regression errors and predictions: forward passes with autograd and dropout off, in libtorch, or in ONNX
/// Runtime for a model imported from an ONNX file (<see cref="OnnxEvaluation"/>, which never touches libtorch).
/// </summary>
public static class Evaluator
{
    // Large batches amortise per-call overhead; 1000 images of 784 floats is ~3 MB.
    private const int EvaluationBatchSize = 1000;

    /// <param name="progress">Told the fraction of the examples measured, after each batch.</param>
    public static AccuracyResult Accuracy(MlpModel model, MlpDataset dataset, IProgress<double>? progress = null)
    {
        var counts = Measure(model, dataset, MlpTask.Classification, progress);
        return new AccuracyResult(model.Name, dataset.Name, dataset.Split, counts.Correct, counts.Total, counts.PerClass, counts.Confusion!);
    }

    /// <summary>RMSE, MAE and R² of a regression model on <paramref name="dataset"/>, per target in the targets' units.</summary>
    public static RegressionResult Regression(MlpModel model, MlpDataset dataset, IProgress<double>? progress = null)
    {
        var evaluation = Measure(model, dataset, MlpTask.Regression, progress);
        return new RegressionResult(model.Name, dataset.Name, dataset.Split, evaluation.Total, evaluation.Loss, evaluation.Targets!);
    }

    private static Evaluation Measure(MlpModel model, MlpDataset dataset, MlpTask task, IProgress<double>? progress)
    {
        model.Bind(dataset);
        if (!dataset.HasAnswers)
        {
            throw new MlpToolsException(ErrorIds.DatasetUnlabelled,
                $"Dataset '{dataset.Name}' ({dataset.Split}) has no {(model.Task == MlpTask.Regression ? "targets" : "labels")} to measure model '{model.Name}' against. " +
                "Build it with -LabelProperty/-LabelColumn (or -TargetProperty/-TargetColumn), or use Invoke-MlpPrediction for rows without answers.", dataset);
        }
        if (model.Task != task)
        {
            throw new MlpToolsException(ErrorIds.ModelTaskMismatch,
                $"Model '{model.Name}' is a {model.Task.ToString().ToLowerInvariant()} model; this measure is for {task.ToString().ToLowerInvariant()}.", model);
        }
        if (model.Onnx is not null)
        {
            return OnnxEvaluation.Evaluate(model, dataset);
        }
        return EvaluateInTorch(model, dataset, progress);
    }

    private static Evaluation EvaluateInTorch(MlpModel model, MlpDataset dataset, IProgress<double>? progress)
    {
        TorchRuntime.EnsureAvailable();
        using var lease = model.Acquire("measuring accuracy");
        using var data = new DatasetTensors(dataset, model);
        return Evaluate(model, data, progress);
    }

    /// <summary>
    /// Classification: the confusion matrix, per-class counts and the mean cross-entropy; regression: the mean squared error of
    /// the standardised targets and each target's errors in its own units. In evaluation mode (dropout off). With
    /// <paramref name="workers"/>, the rows are shared among them (and no progress is reported); the sums of the shares are
    /// added in share order, so the loss may differ from one thread's in its last digits, but not from run to run.
    /// </summary>
    internal static Evaluation Evaluate(MlpModel model, DatasetTensors data, IProgress<double>? progress = null, BatchWorkers? workers = null)
    {
        model.Network.eval();
        if (data.Task == MlpTask.Regression)
        {
            var parts = OverRows(data.Count, workers, progress, (from, length, report) => RegressionSums(model, data, from, length, report));
            double[] sums = parts[0].Sums;
            foreach (var part in parts.Skip(1))
            {
                for (int i = 0; i < sums.Length; i++)
                {
                    sums[i] += part.Sums[i];
                }
            }
            return FromRegressionSums(model, sums, data.Count, parts.Aggregate(0.0, (sum, part) => sum + part.LossSum));
        }
        // One row and column per class the model can answer; binding made sure every label is among them.
        int classes = Math.Max(model.OutputSize, data.ClassCount);
        var counts = OverRows(data.Count, workers, progress, (from, length, report) => ConfusionAndLoss(model, data, classes, from, length, report));
        int[] cells = Enumerable.Range(0, classes * classes).Select(cell => counts.Sum(part => (int)part.Cells[cell])).ToArray();
        return FromConfusion(model, cells, classes, data.ClassCount, data.Count, counts.Aggregate(0.0, (sum, part) => sum + part.LossSum));
    }

    /// <summary>
    /// <paramref name="measure"/>(first row, rows, progress) over all <paramref name="count"/> rows: here with the progress,
    /// or in consecutive shares among <paramref name="workers"/>, whose results come back in share order.
    /// </summary>
    private static T[] OverRows<T>(long count, BatchWorkers? workers, IProgress<double>? progress, Func<long, long, IProgress<double>?, T> measure)
    {
        int shares = workers is null ? 1 : TrainingThreads.SharesFor(count, workers.Count);
        if (shares == 1)
        {
            return new[] { measure(0, count, progress) };
        }
        return workers!.Run(shares, share =>
        {
            var (from, length) = BatchWorkers.Share(count, share, shares);
            return measure(from, length, null);
        });
    }

    /// <summary>Accuracy, per-class counts and the mean loss from the confusion counts (row: label, column: prediction) and the summed loss.</summary>
    internal static Evaluation FromConfusion(MlpModel model, int[] cells, int classes, int classCount, int count, double lossSum)
    {
        var confusion = new ConfusionMatrix(classes, cells) { ClassNames = model.ClassNames.Concat(MlpDataset.IndexNames(classes).Skip(model.ClassNames.Count)).ToArray() };
        var perClass = Enumerable.Range(0, classCount)
            .Select(c => new ClassAccuracy(c, confusion.GetCount(c, c), confusion.ActualTotal(c), confusion.PredictedTotal(c)) { Name = model.ClassNames[c] }).ToArray();
        int correct = perClass.Sum(c => c.Correct);
        return new Evaluation(correct, count, perClass, correct / (double)count, lossSum / count, confusion, null);
    }

    internal readonly record struct Evaluation(int Correct, int Total, ClassAccuracy[] PerClass, double Accuracy, double Loss, ConfusionMatrix? Confusion,
        IReadOnlyList<TargetMetrics>? Targets)
    {
        /// <summary>Regression: RMSE, MAE and R², each the mean over the targets.</summary>
        public double? Rmse => Targets?.Average(t => t.Rmse);
        public double? Mae => Targets?.Average(t => t.Mae);
        public double? R2 => Targets?.Average(t => t.R2);
    }

    /// <summary>
    /// The confusion counts of <paramref name="length"/> rows from <paramref name="from"/>, row by row (one bincount of
    /// label * classes + prediction per batch), and their summed loss.
    /// </summary>
    private static (long[] Cells, double LossSum) ConfusionAndLoss(MlpModel model, DatasetTensors data, int classes, long from, long length, IProgress<double>? progress)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Tensor counts = zeros(classes * classes, ScalarType.Int64, model.TorchDevice);
        Tensor lossSum = zeros(1, ScalarType.Float64, model.TorchDevice);
        long end = from + length;
        for (long start = from; start < end; start += EvaluationBatchSize)
        {
            using var batchScope = NewDisposeScope();
            var (inputs, labels) = data.Slice(start, Math.Min(EvaluationBatchSize, end - start));
            Tensor logits = model.Forward(inputs);
            lossSum.add_(nn.functional.cross_entropy(logits, labels, reduction: nn.Reduction.Sum));
            counts.add_(labels.mul(classes).add_(logits.argmax(1)).bincount(null, classes * classes));
            progress?.Report(Math.Min(start + EvaluationBatchSize, end) / (double)data.Count);
        }
        return (counts.cpu().data<long>().ToArray(), lossSum.item<double>());
    }

    /// <summary>
    /// Of <paramref name="length"/> rows from <paramref name="from"/>: per target Σ(ŷ-y)², Σ|ŷ-y|, Σy and Σy² (four rows of
    /// one value per target), and the summed loss on the standardised scale.
    /// </summary>
    private static (double[] Sums, double LossSum) RegressionSums(MlpModel model, DatasetTensors data, long from, long length, IProgress<double>? progress)
    {
        var preprocessing = model.Preprocessing.ForReading();
        int targets = model.OutputSize;
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Tensor mean = tensor(preprocessing.TargetMean!, device: model.TorchDevice).to(ScalarType.Float64);
        Tensor scale = tensor(preprocessing.TargetScale!, device: model.TorchDevice).to(ScalarType.Float64);
        // Per target: Σ(ŷ-y)², Σ|ŷ-y|, Σy, Σy² in float64 and the targets' own units; and the loss on the standardised scale.
        Tensor sums = zeros(4, targets, ScalarType.Float64, model.TorchDevice);
        Tensor lossSum = zeros(1, ScalarType.Float64, model.TorchDevice);
        long end = from + length;
        for (long start = from; start < end; start += EvaluationBatchSize)
        {
            using var batchScope = NewDisposeScope();
            var (inputs, answers) = data.Slice(start, Math.Min(EvaluationBatchSize, end - start));
            Tensor outputs = model.Forward(inputs);
            lossSum.add_(nn.functional.mse_loss(outputs, answers, reduction: nn.Reduction.Sum).to(ScalarType.Float64).div(targets));
            Tensor predicted = outputs.to(ScalarType.Float64).mul(scale).add_(mean);
            Tensor actual = answers.to(ScalarType.Float64).mul(scale).add_(mean);
            Tensor error = predicted.sub(actual);
            sums.add_(stack(new[] { error.pow(2).sum(0L), error.abs().sum(0L), actual.sum(0L), actual.pow(2).sum(0L) }));
            progress?.Report(Math.Min(start + EvaluationBatchSize, end) / (double)data.Count);
        }
        return (sums.cpu().data<double>().ToArray(), lossSum.item<double>());
    }

    /// <summary>
    /// RMSE, MAE and R² per target from Σ(ŷ-y)², Σ|ŷ-y|, Σy and Σy² (four rows of one value per target, in the targets'
    /// units) and the summed loss on the standardised scale.
    /// </summary>
    internal static Evaluation FromRegressionSums(MlpModel model, double[] s, int count, double lossSum)
    {
        int targets = model.OutputSize;
        double n = count;
        var metrics = Enumerable.Range(0, targets).Select(t =>
        {
            double squared = s[t], absolute = s[targets + t], sum = s[2 * targets + t], sumOfSquares = s[3 * targets + t];
            double total = sumOfSquares - sum * sum / n;
            // R² of a constant target is undefined: NaN says so rather than a misleading 0 or -∞.
            double r2 = total > 1e-12 * Math.Max(1, sumOfSquares) ? 1 - squared / total : double.NaN;
            return new TargetMetrics(model.Preprocessing.TargetNames[t], Math.Sqrt(squared / n), absolute / n, r2);
        }).ToArray();
        return new Evaluation(0, count, Array.Empty<ClassAccuracy>(), double.NaN, lossSum / n, null, metrics);
    }

    /// <summary>A classification model's predictions for the examples at <paramref name="indices"/>, computed a batch at a time and yielded as they are ready.</summary>
    public static IEnumerable<Prediction> Predict(MlpModel model, MlpDataset dataset, IReadOnlyList<int> indices, CancellationToken cancel = default) =>
        Predictions(model, dataset, indices, cancel, MlpTask.Classification).Cast<Prediction>();

    /// <summary>A regression model's estimates for the examples at <paramref name="indices"/>, yielded as they are ready.</summary>
    public static IEnumerable<RegressionPrediction> PredictRegression(MlpModel model, MlpDataset dataset, IReadOnlyList<int> indices, CancellationToken cancel = default) =>
        Predictions(model, dataset, indices, cancel, MlpTask.Regression).Cast<RegressionPrediction>();

    private static IEnumerable<object> Predictions(MlpModel model, MlpDataset dataset, IReadOnlyList<int> indices, CancellationToken cancel, MlpTask task)
    {
        model.Bind(dataset);
        if (model.Task != task)
        {
            throw new MlpToolsException(ErrorIds.ModelTaskMismatch,
                $"Model '{model.Name}' is a {model.Task.ToString().ToLowerInvariant()} model, not a {task.ToString().ToLowerInvariant()} one.", model);
        }
        foreach (int index in indices)
        {
            if (index < 0 || index >= dataset.Count)
            {
                throw new MlpToolsException(ErrorIds.DatasetIndexOutOfRange,
                    $"Index {index} is outside dataset '{dataset.Name}' ({dataset.Split}), which has {(dataset.IsImage ? "images" : "rows")} 0 to {dataset.Count - 1}.", index);
            }
        }
        if (model.Onnx is not null)
        {
            return OnnxEvaluation.Predict(model, dataset, indices, cancel);
        }
        TorchRuntime.EnsureAvailable();
        return PredictBatches(model, dataset, indices, cancel);
    }

    private static IEnumerable<object> PredictBatches(MlpModel model, MlpDataset dataset, IReadOnlyList<int> indices, CancellationToken cancel)
    {
        using var lease = model.Acquire("prediction");
        using var data = new DatasetTensors(dataset, model);
        for (int start = 0; start < indices.Count; start += EvaluationBatchSize)
        {
            cancel.ThrowIfCancellationRequested();
            int length = Math.Min(EvaluationBatchSize, indices.Count - start);
            var batch = PredictBatch(model, data, indices.Skip(start).Take(length).ToArray());
            foreach (var prediction in batch)
            {
                yield return prediction;
            }
        }
    }

    private static object[] PredictBatch(MlpModel model, DatasetTensors data, int[] rows)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        model.Network.eval();
        var (inputs, answers) = data.Gather(tensor(rows.Select(r => (long)r).ToArray(), device: model.TorchDevice));
        var outputs = Outputs(model, model.Forward(inputs));
        if (model.Task == MlpTask.Regression)
        {
            return ToPredictions(model, rows, outputs, null, answers is null ? null : Outputs(model, answers).Select(a => a.Values!).ToArray());
        }
        return ToPredictions(model, rows, outputs, answers?.cpu().data<long>().ToArray().Select(l => (int)l).ToArray(), null);
    }

    /// <summary>The prediction objects for dataset rows: with each row's label (model class index) or actual target values, when known.</summary>
    internal static object[] ToPredictions(MlpModel model, int[] rows, RowPrediction[] outputs, int[]? labels, IReadOnlyList<double>[]? actual)
    {
        if (model.Task == MlpTask.Regression)
        {
            return rows.Select((row, i) => (object)new RegressionPrediction(row, model.Preprocessing.TargetNames, outputs[i].Values!, actual?[i])).ToArray();
        }
        return rows.Select((row, i) =>
        {
            int label = labels is null ? -1 : labels[i];
            return (object)new Prediction(row, outputs[i].ClassIndex, label, outputs[i].Confidence)
            {
                PredictedClass = outputs[i].ClassName!,
                LabelClass = label < 0 ? null : model.ClassNames[label],
                Probabilities = outputs[i].Probabilities,
            };
        }).ToArray();
    }

    /// <summary>
    /// Predictions for rows of raw features (<paramref name="rowCount"/> rows of InputSize values, row by row): table rows
    /// encoded in the model's column order, or pixels 0-255. The model's own preprocessing is applied here.
    /// </summary>
    public static RowPrediction[] PredictRows(MlpModel model, float[] features, int rowCount)
    {
        if (features.Length != (long)rowCount * model.InputSize)
        {
            throw new ArgumentException($"{features.Length} values do not make {rowCount} rows of {model.InputSize}.", nameof(features));
        }
        if (model.Onnx is not null)
        {
            return OnnxEvaluation.PredictRows(model, features, rowCount);
        }
        TorchRuntime.EnsureAvailable();
        var preprocessing = model.Preprocessing.ForReading();
        using var lease = model.Acquire("prediction");
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        model.Network.eval();
        Tensor inputs = tensor(features, new long[] { rowCount, model.InputSize }, ScalarType.Float32, model.TorchDevice);
        inputs = DatasetTensors.ToModelInputs(inputs, preprocessing);
        return Outputs(model, model.Forward(inputs));
    }

    /// <summary>The model's answers from its outputs: class, confidence and probabilities, or target values in their own units.</summary>
    private static RowPrediction[] Outputs(MlpModel model, Tensor outputs)
    {
        int rows = (int)outputs.shape[0];
        if (model.Task == MlpTask.Regression)
        {
            var preprocessing = model.Preprocessing.ForReading();
            Tensor values = outputs.mul(tensor(preprocessing.TargetScale!, device: outputs.device)).add_(tensor(preprocessing.TargetMean!, device: outputs.device));
            return Answers(model, values.cpu().data<float>().ToArray(), rows);
        }
        return Answers(model, nn.functional.softmax(outputs, 1).cpu().data<float>().ToArray(), rows);
    }

    /// <summary>The answers from <paramref name="rows"/> rows of class probabilities, or of regression values in their own units.</summary>
    internal static RowPrediction[] Answers(MlpModel model, float[] outputs, int rows)
    {
        int width = model.OutputSize;
        if (model.Task == MlpTask.Regression)
        {
            return Enumerable.Range(0, rows).Select(r =>
                new RowPrediction(-1, null, double.NaN, Array.Empty<double>(), outputs.AsSpan(r * width, width).ToArray().Select(v => (double)v).ToArray())).ToArray();
        }
        float[] probabilities = outputs;
        return Enumerable.Range(0, rows).Select(r =>
        {
            double[] row = probabilities.AsSpan(r * width, width).ToArray().Select(p => (double)p).ToArray();
            int best = 0;
            for (int c = 1; c < width; c++)
            {
                if (row[c] > row[best])
                {
                    best = c;
                }
            }
            return new RowPrediction(best, model.ClassNames[best], row[best], row, null);
        }).ToArray();
    }
}
