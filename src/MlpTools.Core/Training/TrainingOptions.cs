namespace MlpTools.Core.Training;

/// <summary>The training recipe; every default is the lecture notebook's.</summary>
public sealed record TrainingOptions
{
    public int Epochs { get; init; } = 10;
    public int BatchSize { get; init; } = 256;
    public double LearningRate { get; init; } = 1e-3;
    /// <summary>Seed of the per-epoch shuffle.</summary>
    public long Seed { get; init; }

    internal void Validate()
    {
        Require(Epochs > 0, "Epochs", Epochs, "a positive number of epochs");
        Require(BatchSize > 0, "BatchSize", BatchSize, "a positive number of images per batch");
        Require(LearningRate > 0 && double.IsFinite(LearningRate), "LearningRate", LearningRate, "a positive finite number such as 1e-3");
    }

    private static void Require(bool condition, string name, object value, string what)
    {
        if (!condition)
        {
            throw new MlpToolsException("TrainingOptionInvalid", FailureKind.InvalidArgument, $"{name} must be {what}, not {value}.", value);
        }
    }
}
