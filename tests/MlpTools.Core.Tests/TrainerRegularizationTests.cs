using MlpTools.Core.Data;
using MlpTools.Core.Modeling;
using MlpTools.Core.Training;
using Xunit;
using static MlpTools.Core.Tests.TestData;

namespace MlpTools.Core.Tests;

/// <summary>
/// The lecture's regularisation toolbox around the training loop: dropout, the L2 term and its optimisers,
/// learning-rate schedules, early stopping, gradient tracking and the divergence guard.
/// </summary>
public class TrainerToolboxTests
{
    // 32 images in batches of 8: 4 batches an epoch.
    private static readonly TrainingOptions Recipe = new() { Epochs = 4, BatchSize = 8, LearningRate = 0.01, Seed = 3 };

    private static MlpDataset Train32 => Separable(32);

    /// <summary>The training images with every label flipped: its loss can only rise as the model learns the training set.</summary>
    private static MlpDataset Flipped => WithLabels(Train32, Enumerable.Range(0, 32).Select(i => (byte)(1 - i % 2)).ToArray(), "flipped");

    /// <summary>10 other images, 3 of them (0, 3, 5) mislabelled: their loss first falls, then rises.</summary>
    private static MlpDataset Mislabelled
    {
        get
        {
            var data = Separable(10, noiseSeed: 2, split: "Test");
            var labels = Enumerable.Range(0, 10).Select(i => (byte)(new[] { 0, 3, 5 }.Contains(i) ? 1 - i % 2 : i % 2)).ToArray();
            return WithLabels(data, labels, "mislabelled");
        }
    }

    private static MlpModel Tiny(long seed = 1, double dropout = 0, int[]? hidden = null) =>
        MlpModel.Create("tiny", new MlpArchitecture(PixelsPerImage, hidden ?? new[] { 8 }, 2, ActivationSpec.ReLU, Initialization.KaimingNormal, dropout), seed);

    private static List<EpochRecord> Run(MlpModel model, TrainingOptions options, MlpDataset? validation = null, MlpDataset? data = null) =>
        Trainer.Train(model, data ?? Train32, validation, options).ToList();

    private static double[] Losses(IEnumerable<EpochRecord> records) => records.Select(r => r.Loss).ToArray();

    private static double[] Confidences(MlpModel model, MlpDataset data) =>
        Evaluator.Predict(model, data, Enumerable.Range(0, data.Count).ToArray()).Select(p => p.Confidence).ToArray();

    /// <summary>Mean cross-entropy of a 2-class model, from its predictions alone.</summary>
    private static double MeanCrossEntropy(MlpModel model, MlpDataset data) =>
        Evaluator.Predict(model, data, Enumerable.Range(0, data.Count).ToArray())
            .Average(p => -Math.Log(p.Correct ? p.Confidence : 1 - p.Confidence));

    /// <summary>
    /// Per weight matrix a = ‖g‖², b = g·W, c = ‖W‖² (g = ∂L/∂W over the whole set), read off the gradient check's
    /// GradientNorm = ‖g + λW‖ at λ = 0, Λ, 2Λ, since ‖g + λW‖² = a + 2bλ + cλ². The weights themselves are not public.
    /// </summary>
    private static (double A, double B, double C)[] NormTerms(MlpModel model, MlpDataset data, double lambda = 100)
    {
        double[] Squared(double weightDecay) =>
            GradientCheck.Run(model, data, data.Count, weightDecay, GradientCheck.Method.Auto, 0).Select(r => r.GradientNorm * r.GradientNorm).ToArray();
        double[] f0 = Squared(0), f1 = Squared(lambda), f2 = Squared(2 * lambda);
        return f0.Select((_, l) =>
        {
            double c = (f2[l] - 2 * f1[l] + f0[l]) / (2 * lambda * lambda);
            return (f0[l], (f1[l] - f0[l] - c * lambda * lambda) / (2 * lambda), c);
        }).ToArray();
    }

    private static double SquaredWeights(MlpModel model, MlpDataset data) => NormTerms(model, data).Sum(t => t.C);

    private static void AssertRelative(double expected, double actual, double tolerance, string what) =>
        Assert.True(Math.Abs(actual - expected) <= tolerance * Math.Abs(expected), $"{what}: expected {expected}, got {actual}");

    // ---- Dropout ----

    [Fact]
    public void DropoutIsActiveInTrainingAndReproducibleFromTheSeed()
    {
        using var a = Tiny(dropout: 0.5);
        using var b = Tiny(dropout: 0.5);
        using var none = Tiny();
        using var otherSeed = Tiny(dropout: 0.5);

        var first = Losses(Run(a, Recipe));
        var second = Losses(Run(b, Recipe));
        var without = Losses(Run(none, Recipe));
        var reseeded = Losses(Run(otherSeed, Recipe with { Seed = 4 }));

        Assert.Equal(first, second);
        Assert.All(first.Zip(without), pair => Assert.NotEqual(pair.Second, pair.First));
        Assert.NotEqual(first, reseeded);
    }

    [Fact]
    public void DropoutIsOffInEvaluation()
    {
        var data = Train32;
        using var model = Tiny(dropout: 0.5);
        var records = Run(model, Recipe with { Epochs = 3 });

        Assert.Equal(Confidences(model, data), Confidences(model, data));
        Assert.Equal(Evaluator.Accuracy(model, Mislabelled).Correct, Evaluator.Accuracy(model, Mislabelled).Correct);
        // The record's TrainAccuracy is measured as Test-MlpAccuracy measures it: without dropout.
        Assert.Equal(records[^1].TrainAccuracy, Evaluator.Accuracy(model, data).Accuracy);
    }

    [Fact]
    public void DropoutMasksTheTrainingForwardPass()
    {
        // Full-batch SGD at a rate of 1e-12 barely moves the weights, so an epoch's loss is the loss of the initial
        // weights as the training pass computes it: without dropout that is the evaluation's loss, with p = 0.9 it is not.
        using var dropped = Tiny(dropout: 0.9);
        using var plain = Tiny();
        var options = Recipe with { Epochs = 1, BatchSize = 32, Optimizer = OptimizerKind.SGD, LearningRate = 1e-12 };

        var withDropout = Run(dropped, options)[0];
        var without = Run(plain, options)[0];

        Assert.Equal(MeanCrossEntropy(plain, Train32), without.Loss, 5);
        Assert.True(Math.Abs(withDropout.Loss - without.Loss) > 1e-3, $"{withDropout.Loss} vs {without.Loss}");
    }

    // ---- Weight decay ----

    [Fact]
    public void WeightPenaltyIsZeroWithoutWeightDecay()
    {
        using var model = Tiny();
        var records = Run(model, Recipe);
        Assert.All(records, r =>
        {
            Assert.Equal(0, r.WeightPenalty);
            Assert.Equal(0, r.WeightDecay);
            Assert.Equal("Adam", r.Optimizer);
        });
    }

    [Theory]
    [InlineData(OptimizerKind.Adam)]
    [InlineData(OptimizerKind.AdamW)]
    [InlineData(OptimizerKind.SGD)]
    public void WeightPenaltyIsHalfLambdaTimesTheSquaredFrobeniusNorms(OptimizerKind optimizer)
    {
        using var model = Tiny(hidden: new[] { 8, 4 });
        var records = Run(model, Recipe with { Optimizer = optimizer, WeightDecay = 0.01, Epochs = 2 });

        Assert.All(records, r => Assert.Equal(optimizer.ToString(), r.Optimizer));
        AssertRelative(0.01 / 2 * SquaredWeights(model, Train32), records[^1].WeightPenalty, 1e-5, "λ/2·Σ‖W‖²");
    }

    [Fact]
    public void SgdStepsAlongTheGradientOfJIncludingLambdaW()
    {
        // One full batch: W' = W − η(g + λW), so Σ‖W'‖² = Σ c − 2η(b + λc) + η²‖g + λW‖².
        var data = Train32;
        using var model = Tiny();
        var terms = NormTerms(model, data);
        const double eta = 0.1, lambda = 0.5;

        var record = Run(model, new TrainingOptions { Epochs = 1, BatchSize = 32, Optimizer = OptimizerKind.SGD, LearningRate = eta, WeightDecay = lambda, Seed = 1 })[0];

        double expected = lambda / 2 * terms.Sum(t => t.C - 2 * eta * (t.B + lambda * t.C) + eta * eta * (t.A + 2 * lambda * t.B + lambda * lambda * t.C));
        double withoutDecayTerm = lambda / 2 * terms.Sum(t => t.C - 2 * eta * t.B + eta * eta * t.A);
        AssertRelative(expected, record.WeightPenalty, 1e-5, "penalty after one SGD step on J");
        Assert.True(Math.Abs(record.WeightPenalty - withoutDecayTerm) > 0.01 * expected, "the step ignored λW");
        AssertRelative(expected, lambda / 2 * SquaredWeights(model, data), 1e-5, "Σ‖W‖² measured after the step");
    }

    [Fact]
    public void AdamWShrinksWeightsByLearningRateTimesLambdaOutsideTheGradient()
    {
        // With a learning rate of 1e-12 Adam's own step is ~1e-12 per weight, so one full-batch AdamW step is just W(1 − ηλ)...
        // which for η = 1e-12 is invisible too. Use λ so large that ηλ = 0.5: the decay halves the weights, Σ‖W‖² falls to a quarter.
        var data = Train32;
        using var model = Tiny();
        double before = SquaredWeights(model, data);
        const double eta = 1e-9, lambda = 5e8;

        // WeightDecay above 1e3 is only refused by the cmdlet's parameter validation, not by the engine's options.
        var record = Run(model, new TrainingOptions { Epochs = 1, BatchSize = 32, Optimizer = OptimizerKind.AdamW, LearningRate = eta, WeightDecay = lambda, Seed = 1 })[0];

        AssertRelative(before / 4, SquaredWeights(model, data), 1e-4, "Σ‖W‖² after one AdamW step with ηλ = 0.5");
        AssertRelative(lambda / 2 * before / 4, record.WeightPenalty, 1e-4, "the record's penalty");
    }

    [Theory]
    [InlineData(OptimizerKind.Adam)]
    [InlineData(OptimizerKind.AdamW)]
    [InlineData(OptimizerKind.SGD)]
    public void StrongerWeightDecayKeepsWeightsSmaller(OptimizerKind optimizer)
    {
        var options = Recipe with { Optimizer = optimizer, Momentum = optimizer == OptimizerKind.SGD ? 0.9 : 0 };
        using var weak = Tiny();
        using var strong = Tiny();

        double weakSquares = Run(weak, options with { WeightDecay = 1e-9 })[^1].WeightPenalty / 1e-9 * 2;
        double strongSquares = Run(strong, options with { WeightDecay = 0.1 })[^1].WeightPenalty / 0.1 * 2;

        Assert.True(strongSquares < weakSquares, $"Σ‖W‖² with λ = 0.1: {strongSquares}; with λ = 1e-9: {weakSquares}");
    }

    [Fact]
    public void AdamWDiffersFromAdamWithTheSameLambdaAndEqualsItWithoutDecay()
    {
        using var adam = Tiny();
        using var adamW = Tiny();
        using var adam0 = Tiny();
        using var adamW0 = Tiny();

        var coupled = Run(adam, Recipe with { Optimizer = OptimizerKind.Adam, WeightDecay = 0.5 });
        var decoupled = Run(adamW, Recipe with { Optimizer = OptimizerKind.AdamW, WeightDecay = 0.5 });

        Assert.NotEqual(coupled[^1].Loss, decoupled[^1].Loss);
        Assert.Equal(Losses(Run(adam0, Recipe with { Optimizer = OptimizerKind.Adam })), Losses(Run(adamW0, Recipe with { Optimizer = OptimizerKind.AdamW })));
    }

    [Fact]
    public void SgdWithMomentumTrains()
    {
        using var momentum = Tiny();
        using var plain = Tiny();
        var options = Recipe with { Optimizer = OptimizerKind.SGD, LearningRate = 0.05, Epochs = 6 };

        var withMomentum = Run(momentum, options with { Momentum = 0.9 });
        var without = Run(plain, options);

        Assert.True(withMomentum[^1].Loss < withMomentum[0].Loss / 2, string.Join(", ", Losses(withMomentum)));
        Assert.Equal(1.0, withMomentum[^1].TrainAccuracy);
        Assert.NotEqual(without[^1].Loss, withMomentum[^1].Loss);
    }

    // ---- Schedules ----

    [Fact]
    public void StepScheduleHalvesEveryTwoEpochs()
    {
        using var model = Tiny();
        var records = Run(model, Recipe with { LearningRate = 1e-3, Epochs = 5, Schedule = LearningRateSchedule.Step, StepSize = 2, Gamma = 0.5 });
        Assert.Equal(new[] { 1e-3, 1e-3, 5e-4, 5e-4, 2.5e-4 }, records.Select(r => r.LearningRate));
    }

    [Fact]
    public void TheOptimizerStepsWithTheScheduledRate()
    {
        // Full-batch SGD: each record's loss is the loss at the weights left by the previous epoch's step.
        var options = new TrainingOptions { Epochs = 4, BatchSize = 32, Optimizer = OptimizerKind.SGD, LearningRate = 0.5, Seed = 1 };
        using var frozen = Tiny();
        using var free = Tiny();

        var cut = Run(frozen, options with { Schedule = LearningRateSchedule.Step, StepSize = 1, Gamma = 1e-6 });
        var constant = Run(free, options);

        Assert.Equal(constant[1].Loss, cut[1].Loss);
        Assert.True(Math.Abs(cut[3].Loss - cut[1].Loss) < 1e-5, string.Join(", ", Losses(cut)));
        Assert.True(constant[3].Loss < constant[1].Loss - 0.05, string.Join(", ", Losses(constant)));
    }

    [Fact]
    public void ReduceOnPlateauKeepsTheRateWhileTheLossImproves()
    {
        using var model = Tiny();
        var records = Run(model, Recipe with { Epochs = 6, Schedule = LearningRateSchedule.ReduceOnPlateau, SchedulePatience = 1, Gamma = 0.5 });

        var losses = Losses(records);
        Assert.True(losses.Zip(losses.Skip(1)).All(p => p.Second < p.First), "premise: the loss improves every epoch: " + string.Join(", ", losses));
        Assert.All(records, r => Assert.Equal(0.01, r.LearningRate));
    }

    [Fact]
    public void ReduceOnPlateauCutsTheRateAfterPatienceEpochsWithoutImprovementByMinDelta()
    {
        // Nothing beats the first epoch by 1e6: epochs 2, 3 fail, so epoch 4 runs at γ·lr; 4, 5 fail, so epoch 6 at γ²·lr.
        using var model = Tiny();
        var records = Run(model, Recipe with { Epochs = 7, Schedule = LearningRateSchedule.ReduceOnPlateau, SchedulePatience = 2, Gamma = 0.5, MinDelta = 1e6 });
        Assert.Equal(new[] { 0.01, 0.01, 0.01, 0.005, 0.005, 0.0025, 0.0025 }, records.Select(r => r.LearningRate));
    }

    [Fact]
    public void ReduceOnPlateauMonitorsTheValidationLoss()
    {
        using var model = Tiny();
        var records = Run(model, Recipe with { Schedule = LearningRateSchedule.ReduceOnPlateau, SchedulePatience = 1, Gamma = 0.5 }, Flipped);

        var validation = records.Select(r => r.ValidationLoss!.Value).ToArray();
        Assert.True(validation.Zip(validation.Skip(1)).All(p => p.Second > p.First), "premise: the flipped set gets worse: " + string.Join(", ", validation));
        Assert.Equal(new[] { 0.01, 0.01, 0.005, 0.0025 }, records.Select(r => r.LearningRate));
    }

    // ---- Early stopping and validation ----

    [Fact]
    public void EarlyStoppingWithoutValidationIsRefusedBeforeAnyTraining()
    {
        using var model = Tiny();
        var error = Fails("EarlyStoppingNeedsValidation", () => Trainer.Train(model, Train32, null, Recipe with { EarlyStopping = true }));
        Assert.Equal(FailureKind.InvalidArgument, error.Kind);
        Assert.Equal(0, model.EpochsTrained);
    }

    [Fact]
    public void AValidationFractionAndAValidationSetTogetherAreAmbiguous()
    {
        using var model = Tiny();
        Fails("ValidationSourceAmbiguous", () => Trainer.Train(model, Train32, Mislabelled, Recipe with { ValidationFraction = 0.25 }));
    }

    [Theory]
    [InlineData(0.01)]
    [InlineData(0.99)]
    public void AValidationFractionLeavingOneSideEmptyIsRefused(double fraction)
    {
        using var model = Tiny();
        Fails("ValidationFractionInvalid", () => Trainer.Train(model, Train32, null, Recipe with { ValidationFraction = fraction }));
    }

    [Fact]
    public void AValidationFractionHoldsOutThatShareOfTheTrainingSet()
    {
        using var model = Tiny();
        var records = Run(model, Recipe with { ValidationFraction = 0.25, Epochs = 2, LearningRate = 1e-3 });

        Assert.All(records, r =>
        {
            Assert.NotNull(r.ValidationLoss);
            double heldOutCorrect = r.ValidationAccuracy!.Value * 8, trainCorrect = r.TrainAccuracy!.Value * 24;
            Assert.Equal(Math.Round(heldOutCorrect), heldOutCorrect, 9);
            Assert.Equal(Math.Round(trainCorrect), trainCorrect, 9);
        });
    }

    [Fact]
    public void EarlyStoppingStopsWhenTheValidationLossRisesAndKeepsTheFirstEpoch()
    {
        var flipped = Flipped;
        using var model = Tiny();

        var records = Run(model, Recipe with { Epochs = 30, EarlyStopping = true, Patience = 3 }, flipped);

        Assert.Equal(4, records.Count);
        Assert.Equal(4, model.EpochsTrained);
        Assert.All(records, r => Assert.Equal(1, r.BestEpoch));
        Assert.All(records.Take(3), r => Assert.Null(r.StopReason));
        Assert.Contains("epoch 1 ", records[^1].StopReason);
        Assert.Equal(records[0].ValidationLoss!.Value, MeanCrossEntropy(model, flipped), 5);
    }

    [Fact]
    public void EarlyStoppingKeepsTheBestWeightsFromTheMiddleOfTheRun()
    {
        var validation = Mislabelled;
        var options = Recipe with { Epochs = 40, LearningRate = 0.003, EarlyStopping = true, Patience = 2 };
        using var model = Tiny();

        var records = Run(model, options, validation);

        int best = records[^1].BestEpoch!.Value;
        var kept = records.Single(r => r.Epoch == best);
        Assert.True(records.Count < 40);
        Assert.True(best > 1, $"best epoch {best}");
        Assert.Equal(records.Count - 2, best);
        Assert.NotNull(records[^1].StopReason);
        Assert.Equal(records.Min(r => r.ValidationLoss!.Value), kept.ValidationLoss!.Value);
        double now = MeanCrossEntropy(model, validation);
        Assert.Equal(kept.ValidationLoss.Value, now, 6);
        Assert.True(Math.Abs(now - records[^1].ValidationLoss!.Value) > 1e-4, "the last epoch's loss is too close to the best to tell them apart");
        Assert.Equal(kept.ValidationAccuracy, Evaluator.Accuracy(model, validation).Accuracy);

        // Replaying exactly BestEpoch epochs with the same seeds lands on the same weights.
        using var replay = Tiny();
        Run(replay, options with { EarlyStopping = false, Epochs = best }, validation);
        Assert.Equal(Confidences(replay, validation), Confidences(model, validation));
    }

    [Fact]
    public void EarlyStoppingThatRunsAllEpochsStillKeepsTheBest()
    {
        // Patience longer than the run: the last record says early stopping reached the end, and the model holds the best epoch's weights.
        var flipped = Flipped;
        using var model = Tiny();

        var records = Run(model, Recipe with { Epochs = 3, EarlyStopping = true, Patience = 10 }, flipped);

        Assert.Equal(3, records.Count);
        Assert.All(records.SkipLast(1), r => Assert.Null(r.StopReason));
        Assert.Equal($"Early stopping reached the last epoch (3) without running out of patience; the model keeps the weights of epoch 1 (validation loss {records[0].ValidationLoss:F4}).",
            records[^1].StopReason);
        Assert.Equal(1, records[^1].BestEpoch);
        Assert.Equal(records[0].ValidationLoss!.Value, MeanCrossEntropy(model, flipped), 5);
    }

    [Fact]
    public void BestEpochCountsTheModelsEpochsAcrossRuns()
    {
        var flipped = Flipped;
        using var model = Tiny();
        Run(model, Recipe with { Epochs = 2 });

        var records = Run(model, Recipe with { Epochs = 30, EarlyStopping = true, Patience = 2 }, flipped);

        Assert.Equal(3, records[0].Epoch);
        Assert.Equal(3, records[^1].BestEpoch);
        Assert.Contains("epoch 3 ", records[^1].StopReason);
    }

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

    // ---- Option validation ----

    public static TheoryData<string, TrainingOptions> InvalidOptions => new()
    {
        { "Momentum", new TrainingOptions { Momentum = 1 } },
        { "Momentum", new TrainingOptions { Momentum = -0.1 } },
        { "WeightDecay", new TrainingOptions { WeightDecay = -1e-4 } },
        { "WeightDecay", new TrainingOptions { WeightDecay = double.NaN } },
        { "WeightDecay", new TrainingOptions { WeightDecay = double.PositiveInfinity } },
        { "StepSize", new TrainingOptions { StepSize = 0 } },
        { "Gamma", new TrainingOptions { Gamma = 0 } },
        { "Gamma", new TrainingOptions { Gamma = 1.5 } },
        { "SchedulePatience", new TrainingOptions { SchedulePatience = 0 } },
        { "Patience", new TrainingOptions { Patience = 0 } },
        { "MinDelta", new TrainingOptions { MinDelta = -1 } },
        { "MinDelta", new TrainingOptions { MinDelta = double.NaN } },
        { "ValidationFraction", new TrainingOptions { ValidationFraction = 1 } },
        { "ValidationFraction", new TrainingOptions { ValidationFraction = -0.1 } },
        { "LearningRate", new TrainingOptions { LearningRate = double.NaN } },
    };

    [Theory]
    [MemberData(nameof(InvalidOptions))]
    public void InvalidOptionsAreRefusedByName(string name, TrainingOptions options)
    {
        using var model = Tiny();
        var error = Fails("TrainingOptionInvalid", () => Trainer.Train(model, Train32, null, options));
        Assert.StartsWith(name + " must be", error.Message);
        Assert.Equal(0, model.EpochsTrained);
    }
}
