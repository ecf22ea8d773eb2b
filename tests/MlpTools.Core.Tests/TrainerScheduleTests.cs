using MlpTools.Core.Modeling;
using MlpTools.Core.Training;
using Xunit;
using static MlpTools.Core.Tests.TrainerToolbox;

namespace MlpTools.Core.Tests;

/// <summary>Learning-rate schedules: Step and ReduceOnPlateau.</summary>
public class TrainerScheduleTests
{
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
}
