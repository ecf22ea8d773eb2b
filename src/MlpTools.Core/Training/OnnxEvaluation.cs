using MlpTools.Core.Data;
using MlpTools.Core.Modeling;

namespace MlpTools.Core.Training;

/// <summary>
/// Accuracy and predictions of a model imported from an ONNX file, through ONNX Runtime: the graph gets the raw features
/// (pixels 0-255, table columns as the dataset holds them, in the model's column order) and does the preprocessing
/// itself. Nothing here touches libtorch, so it works where libtorch cannot load.
/// </summary>
internal static class OnnxEvaluation
{
    // Rows handed to ONNX Runtime at once: bounds the float copy of the features (10,000 MNIST images are 31 MB).
    private const int ChunkRows = 10_000;

    public static Evaluator.Evaluation Evaluate(MlpModel model, MlpDataset dataset)
    {
        var binding = model.Bind(dataset);
        using var lease = model.Acquire("measuring accuracy", scoring: true);
        int width = model.OutputSize;
        if (model.Task == MlpTask.Regression)
        {
            var preprocessing = model.Preprocessing.ForReading();
            var sums = new double[4 * width];
            double lossSum = 0;
            foreach (var (rows, outputs) in Chunks(model, dataset, binding))
            {
                var actual = Targets(dataset, binding, rows, width);
                for (int r = 0; r < rows.Length; r++)
                {
                    for (int t = 0; t < width; t++)
                    {
                        double predicted = outputs[r * width + t], y = actual[r][t], error = predicted - y;
                        sums[t] += error * error;
                        sums[width + t] += Math.Abs(error);
                        sums[2 * width + t] += y;
                        sums[3 * width + t] += y * y;
                        // The loss as training sees it: on the standardised scale, averaged over the targets.
                        double standardised = error / preprocessing.TargetScale![t];
                        lossSum += standardised * standardised / width;
                    }
                }
            }
            return Evaluator.FromRegressionSums(model, sums, dataset.Count, lossSum);
        }

        int classCount = binding.ClassMap is { Length: > 0 } classMap ? classMap.Max() + 1 : dataset.ClassCount;
        int classes = Math.Max(width, classCount);
        var cells = new int[classes * classes];
        double loss = 0;
        foreach (var (rows, outputs) in Chunks(model, dataset, binding))
        {
            var labels = Labels(dataset, binding, rows)!;
            var answers = Evaluator.Answers(model, outputs, rows.Length);
            for (int r = 0; r < rows.Length; r++)
            {
                cells[labels[r] * classes + answers[r].ClassIndex]++;
                // Cross-entropy from the probabilities; a probability that underflowed to 0 counts as the smallest float.
                loss -= Math.Log(Math.Max(outputs[r * width + labels[r]], float.Epsilon));
            }
        }
        return Evaluator.FromConfusion(model, cells, classes, classCount, dataset.Count, loss);
    }

    public static IEnumerable<object> Predict(MlpModel model, MlpDataset dataset, IReadOnlyList<int> indices, CancellationToken cancel)
    {
        var binding = model.Bind(dataset);
        using var lease = model.Acquire("prediction", scoring: true);
        for (int start = 0; start < indices.Count; start += ChunkRows)
        {
            int[] rows = indices.Skip(start).Take(ChunkRows).ToArray();
            float[] outputs = model.Onnx!.Score(RawInputs(model, dataset, binding, rows), rows.Length, cancel);
            var answers = Evaluator.Answers(model, outputs, rows.Length);
            var predictions = model.Task == MlpTask.Regression
                ? Evaluator.ToPredictions(model, rows, answers, null, dataset.Targets is null ? null : Targets(dataset, binding, rows, model.OutputSize))
                : Evaluator.ToPredictions(model, rows, answers, Labels(dataset, binding, rows), null);
            foreach (var prediction in predictions)
            {
                yield return prediction;
            }
        }
    }

    public static RowPrediction[] PredictRows(MlpModel model, float[] features, int rowCount)
    {
        using var lease = model.Acquire("prediction", scoring: true);
        return Evaluator.Answers(model, model.Onnx!.Score(features, rowCount), rowCount);
    }

    private static IEnumerable<(int[] Rows, float[] Outputs)> Chunks(MlpModel model, MlpDataset dataset, DataBinding binding)
    {
        for (int start = 0; start < dataset.Count; start += ChunkRows)
        {
            int[] rows = Enumerable.Range(start, Math.Min(ChunkRows, dataset.Count - start)).ToArray();
            yield return (rows, model.Onnx!.Score(RawInputs(model, dataset, binding, rows), rows.Length));
        }
    }

    /// <summary>The rows' features as the model's graph takes them: raw values, table columns moved to the model's positions.</summary>
    private static float[] RawInputs(MlpModel model, MlpDataset dataset, DataBinding binding, int[] rows)
    {
        int inputs = model.InputSize, features = dataset.FeatureCount;
        var raw = new float[(long)rows.Length * inputs];
        for (int r = 0; r < rows.Length; r++)
        {
            long from = (long)rows[r] * features, to = (long)r * inputs;
            if (dataset.Pixels is { } pixels)
            {
                for (int i = 0; i < features; i++)
                {
                    raw[to + i] = pixels[from + i];
                }
                continue;
            }
            for (int i = 0; i < features; i++)
            {
                // A category the model never saw feeds no input.
                int position = binding.FeatureMap?[i] ?? i;
                if (position >= 0)
                {
                    raw[to + position] = dataset.Features![from + i];
                }
            }
        }
        return raw;
    }

    private static int[]? Labels(MlpDataset dataset, DataBinding binding, int[] rows) =>
        dataset.Labels is { } labels ? rows.Select(r => binding.ClassMap?[labels[r]] ?? labels[r]).ToArray() : null;

    private static IReadOnlyList<double>[] Targets(MlpDataset dataset, DataBinding binding, int[] rows, int width) =>
        rows.Select(r =>
        {
            var values = new double[width];
            for (int t = 0; t < width; t++)
            {
                values[binding.TargetMap?[t] ?? t] = dataset.Targets![(long)r * width + t];
            }
            return (IReadOnlyList<double>)values;
        }).ToArray();
}
