using MlpTools.Core.Data;
using MlpTools.Core.Modeling;
using MlpTools.Core.Native;
using static TorchSharp.torch;

namespace MlpTools.Core.Training;

/// <summary>Accuracy and predictions: forward passes with autograd and dropout off.</summary>
public static class Evaluator
{
    // Large batches amortise per-call overhead; 1000 images of 784 floats is ~3 MB.
    private const int EvaluationBatchSize = 1000;

    public static AccuracyResult Accuracy(MlpModel model, MlpDataset dataset)
    {
        model.EnsureFits(dataset);
        TorchRuntime.EnsureAvailable();
        using var lease = model.Acquire("measuring accuracy");
        using var data = new DatasetTensors(dataset);
        var counts = Evaluate(model, data);
        return new AccuracyResult(model.Name, dataset.Name, dataset.Split, counts.Correct, counts.Total, counts.PerClass, counts.Confusion);
    }

    /// <summary>The confusion matrix, per-class counts and the mean cross-entropy, in evaluation mode (dropout off).</summary>
    internal static Evaluation Evaluate(MlpModel model, DatasetTensors data)
    {
        // One row and column per class the model can answer; EnsureFits made sure every label is among them.
        int classes = Math.Max(model.OutputSize, data.ClassCount);
        var (cells, loss) = ConfusionAndLoss(model, data, classes);
        var confusion = new ConfusionMatrix(classes, cells);
        var perClass = Enumerable.Range(0, data.ClassCount)
            .Select(c => new ClassAccuracy(c, confusion.GetCount(c, c), confusion.ActualTotal(c), confusion.PredictedTotal(c))).ToArray();
        int correct = perClass.Sum(c => c.Correct);
        double count = data.Count;
        return new Evaluation(correct, data.Count, perClass, correct / count, loss / count, confusion);
    }

    internal readonly record struct Evaluation(int Correct, int Total, ClassAccuracy[] PerClass, double Accuracy, double Loss, ConfusionMatrix Confusion);

    /// <summary>The confusion counts, row by row (one bincount of label * classes + prediction per batch), and the summed loss.</summary>
    private static (int[] Cells, double LossSum) ConfusionAndLoss(MlpModel model, DatasetTensors data, int classes)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        model.Network.eval();
        Tensor counts = zeros(classes * classes, ScalarType.Int64);
        Tensor lossSum = zeros(1, ScalarType.Float64);
        for (long start = 0; start < data.Count; start += EvaluationBatchSize)
        {
            using var batchScope = NewDisposeScope();
            var (images, labels) = data.Slice(start, Math.Min(EvaluationBatchSize, data.Count - start));
            Tensor logits = model.Forward(images);
            lossSum.add_(nn.functional.cross_entropy(logits, labels, reduction: nn.Reduction.Sum));
            counts.add_(labels.mul(classes).add_(logits.argmax(1)).bincount(null, classes * classes));
        }
        return (counts.data<long>().ToArray().Select(c => (int)c).ToArray(), lossSum.item<double>());
    }

    /// <summary>Predictions for the images at <paramref name="indices"/>, computed a batch at a time and yielded as they are ready.</summary>
    public static IEnumerable<Prediction> Predict(MlpModel model, MlpDataset dataset, IReadOnlyList<int> indices, CancellationToken cancel = default)
    {
        model.EnsureInputFits(dataset);
        foreach (int index in indices)
        {
            if (index < 0 || index >= dataset.Count)
            {
                throw new MlpToolsException("ImageIndexOutOfRange", FailureKind.InvalidArgument,
                    $"Index {index} is outside dataset '{dataset.Name}' ({dataset.Split}), which has images 0 to {dataset.Count - 1}.", index);
            }
        }
        TorchRuntime.EnsureAvailable();
        return PredictBatches(model, dataset, indices, cancel);
    }

    private static IEnumerable<Prediction> PredictBatches(MlpModel model, MlpDataset dataset, IReadOnlyList<int> indices, CancellationToken cancel)
    {
        using var lease = model.Acquire("prediction");
        using var data = new DatasetTensors(dataset);
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

    private static Prediction[] PredictBatch(MlpModel model, DatasetTensors data, int[] rows)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        model.Network.eval();
        var (images, labels) = data.Gather(tensor(rows.Select(r => (long)r).ToArray()));
        var (confidence, predicted) = nn.functional.softmax(model.Forward(images), 1).max(1);
        float[] confidences = confidence.data<float>().ToArray();
        long[] classes = predicted.data<long>().ToArray();
        long[] labelValues = labels.data<long>().ToArray();
        return rows.Select((row, i) => new Prediction(row, (int)classes[i], (int)labelValues[i], confidences[i])).ToArray();
    }
}
