using MlpTools.Core.Data;
using MlpTools.Core.Modeling;
using MlpTools.Core.Training;
using Xunit;
using static MlpTools.Core.Tests.TrainerToolbox;

namespace MlpTools.Core.Tests;

/// <summary>The regularisers in the training loop: dropout, and the L2 term with each optimiser.</summary>
public class TrainerRegularizationTests
{
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
}
