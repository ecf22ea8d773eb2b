using MlpTools.Core.Platform;
using MlpTools.Core.Data;
using MlpTools.Core.Modeling;
using MlpTools.Core.Training;
using Xunit;
using static MlpTools.Core.Tests.TestData;
using static MlpTools.Core.Tests.TrainerToolbox;

namespace MlpTools.Core.Tests;

/// <summary>Gradient norms recorded per weight matrix, and the guard that stops a diverging run.</summary>
public class TrainerGradientTests
{
    // ---- Gradient tracking ----

    [Fact]
    public void GradientNormsAreRecordedPerWeightMatrixOnlyWhenAsked()
    {
        using var tracked = Tiny(hidden: new[] { 8, 4 });
        using var untracked = Tiny(hidden: new[] { 8, 4 });

        var records = Run(tracked, Recipe with { TrackGradient = true });

        Assert.All(records, r =>
        {
            Assert.NotNull(r.GradientNorms);
            Assert.Equal(3, r.GradientNorms!.Count);
            Assert.All(r.GradientNorms, n => Assert.True(n > 0 && double.IsFinite(n)));
        });
        var plain = Run(untracked, Recipe);
        Assert.All(plain, r => Assert.Null(r.GradientNorms));
        // Tracking observes; it does not change the run.
        Assert.Equal(Losses(plain), Losses(records));
    }

    [Fact]
    public void GradientNormOfAFullBatchEpochIsTheGradientChecksNorm()
    {
        // One batch per epoch: the recorded ‖∂J/∂W‖ is at the initial weights, which the gradient check also measures (in double).
        var data = Train32;
        using var model = Tiny(hidden: new[] { 8, 4 });
        var reference = GradientCheck.Run(model, data, 32, 0.1, GradientCheck.Method.Auto, 0).Select(r => r.GradientNorm).ToArray();

        var record = Run(model, new TrainingOptions { Epochs = 1, BatchSize = 32, Optimizer = OptimizerKind.SGD, LearningRate = 0.1, WeightDecay = 0.1, TrackGradient = true, Seed = 1 })[0];

        for (int l = 0; l < 3; l++)
        {
            AssertRelative(reference[l], record.GradientNorms![l], 1e-5, $"lin_{l + 1}");
        }
    }

    [Fact]
    public void ADeepSigmoidNetworkStarvesItsFirstLayerAndReluDoesNot()
    {
        var mnist = MnistFiles.Load(MnistFiles.DefaultDataPath, MnistSplit.Test).Subset(Enumerable.Range(0, 500).ToArray(), "Test");
        double Ratio(Activation activation)
        {
            using var model = MlpModel.Create("deep", new MlpArchitecture(784, Enumerable.Repeat(32, 9).ToArray(), 10, new ActivationSpec(activation)), 1);
            var norms = Trainer.Train(model, mnist, null, new TrainingOptions { Epochs = 1, BatchSize = 64, Seed = 1, TrackGradient = true }).Single().GradientNorms!;
            Assert.Equal(10, norms.Count);
            return norms[0] / norms[9];
        }

        // Measured: sigmoid about 1e-4, ReLU about 5.
        double sigmoid = Ratio(Activation.Sigmoid), relu = Ratio(Activation.ReLU);
        Assert.True(sigmoid < 0.01, $"sigmoid ratio {sigmoid}");
        Assert.True(relu > 0.1, $"ReLU ratio {relu}");
    }

    // ---- Divergence ----

    [Fact]
    public void DivergenceStopsWithTrainingDivergedAndKeepsFiniteWeights()
    {
        var data = Train32;
        using var model = Tiny();
        var records = new List<EpochRecord>();

        var error = Fails("TrainingDiverged", () =>
        {
            foreach (var record in Trainer.Train(model, data, null, new TrainingOptions { Epochs = 5, BatchSize = 8, Optimizer = OptimizerKind.SGD, LearningRate = 1000, WeightDecay = 1000, Seed = 1 }))
            {
                records.Add(record);
            }
        });

        Assert.Equal(FailureKind.InvalidOperation, error.Kind);
        Assert.Matches($@"epoch {records.Count + 1}, batch \d+ of 4", error.Message);
        Assert.Contains("smaller learning rate than 1000", error.Message);
        Assert.True(records.Count < 5);
        Assert.Equal(32, Evaluator.Accuracy(model, data).Total);
        Assert.All(Confidences(model, data), c => Assert.True(double.IsFinite(c), $"confidence {c}"));
    }

    /// <summary>
    /// The per-batch guard checks each loss before its step, so the last step of a run meets no further batch.
    /// Full-batch SGD with η = λ = 1000 multiplies the weights by about 1e6 a step: the 4th step overflows. Before the
    /// end-of-epoch check this ended with 4 records, no error, WeightPenalty = ∞ and NaN predictions.
    /// </summary>
    [Fact]
    public void DivergenceInTheLastStepOfARunIsCaughtToo()
    {
        var data = Train32;
        using var model = Tiny();
        var records = new List<EpochRecord>();
        MlpToolsException? error = null;
        try
        {
            records.AddRange(Trainer.Train(model, data, null, new TrainingOptions { Epochs = 4, BatchSize = 32, Optimizer = OptimizerKind.SGD, LearningRate = 1000, WeightDecay = 1000, Seed = 1 }));
        }
        catch (MlpToolsException e)
        {
            error = e;
        }

        Assert.All(records, r => Assert.True(double.IsFinite(r.WeightPenalty), $"epoch {r.Epoch} ended with WeightPenalty {r.WeightPenalty} and no error"));
        Assert.All(Confidences(model, data), c => Assert.True(double.IsFinite(c), $"the model was left with non-finite weights (confidence {c}); error: {error?.ErrorId ?? "none"}"));
    }
}
