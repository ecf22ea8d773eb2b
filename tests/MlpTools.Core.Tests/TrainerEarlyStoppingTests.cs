using MlpTools.Core.Platform;
using MlpTools.Core.Training;
using Xunit;
using static MlpTools.Core.Tests.TestData;
using static MlpTools.Core.Tests.TrainerToolbox;

namespace MlpTools.Core.Tests;

/// <summary>Early stopping and the validation set or fraction it watches.</summary>
public class TrainerEarlyStoppingTests
{
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
}
