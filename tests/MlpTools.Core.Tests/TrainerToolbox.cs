using MlpTools.Core.Data;
using MlpTools.Core.Modeling;
using MlpTools.Core.Training;
using Xunit;
using static MlpTools.Core.Tests.TestData;

namespace MlpTools.Core.Tests;

/// <summary>
/// What the tests of the lecture's regularisation toolbox around the training loop share (dropout, the L2 term and its
/// optimisers, learning-rate schedules, early stopping, gradient tracking and the divergence guard): a tiny model, the
/// sets it trains and validates on, and measures of a run.
/// </summary>
internal static class TrainerToolbox
{
    // 32 images in batches of 8: 4 batches an epoch.
    public static readonly TrainingOptions Recipe = new() { Epochs = 4, BatchSize = 8, LearningRate = 0.01, Seed = 3 };

    public static MlpDataset Train32 => Separable(32);

    /// <summary>The training images with every label flipped: its loss can only rise as the model learns the training set.</summary>
    public static MlpDataset Flipped => WithLabels(Train32, Enumerable.Range(0, 32).Select(i => (byte)(1 - i % 2)).ToArray(), "flipped");

    /// <summary>10 other images, 3 of them (0, 3, 5) mislabelled: their loss first falls, then rises.</summary>
    public static MlpDataset Mislabelled
    {
        get
        {
            var data = Separable(10, noiseSeed: 2, split: "Test");
            var labels = Enumerable.Range(0, 10).Select(i => (byte)(new[] { 0, 3, 5 }.Contains(i) ? 1 - i % 2 : i % 2)).ToArray();
            return WithLabels(data, labels, "mislabelled");
        }
    }

    public static MlpModel Tiny(long seed = 1, double dropout = 0, int[]? hidden = null) =>
        MlpModel.Create("tiny", new MlpArchitecture(PixelsPerImage, hidden ?? new[] { 8 }, 2, ActivationSpec.ReLU, Initialization.KaimingNormal, dropout), seed);

    public static List<EpochRecord> Run(MlpModel model, TrainingOptions options, MlpDataset? validation = null, MlpDataset? data = null) =>
        Trainer.Train(model, data ?? Train32, validation, options).ToList();

    public static double[] Losses(IEnumerable<EpochRecord> records) => records.Select(r => r.Loss).ToArray();

    public static double[] Confidences(MlpModel model, MlpDataset data) =>
        Evaluator.Predict(model, data, Enumerable.Range(0, data.Count).ToArray()).Select(p => p.Confidence).ToArray();

    /// <summary>Mean cross-entropy of a 2-class model, from its predictions alone.</summary>
    public static double MeanCrossEntropy(MlpModel model, MlpDataset data) =>
        Evaluator.Predict(model, data, Enumerable.Range(0, data.Count).ToArray())
            .Average(p => -Math.Log(p.Correct ? p.Confidence : 1 - p.Confidence));
    public static void AssertRelative(double expected, double actual, double tolerance, string what) =>
        Assert.True(Math.Abs(actual - expected) <= tolerance * Math.Abs(expected), $"{what}: expected {expected}, got {actual}");
}
