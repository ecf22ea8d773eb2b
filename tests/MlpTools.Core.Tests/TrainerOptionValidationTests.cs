using MlpTools.Core.Modeling;
using MlpTools.Core.Training;
using Xunit;
using static MlpTools.Core.Tests.TestData;
using static MlpTools.Core.Tests.TrainerToolbox;

namespace MlpTools.Core.Tests;

/// <summary>Training options out of range are refused by name before any training.</summary>
public class TrainerOptionValidationTests
{
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
