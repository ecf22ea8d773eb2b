using MlpTools.Core.Data;
using MlpTools.Core.Modeling;
using MlpTools.Core.Training;

namespace MlpTools;

/// <summary>
/// Short names for the engine's public types, registered as PowerShell type accelerators by MlpTools.psm1. The engine
/// lives in a load context of its own, so PowerShell cannot find '[MlpTools.Core.Data.MlpDataset]' by its full name; with
/// these, 'param([MlpModel]$Model)', '-is [MlpDataset]' and '[Prediction]' work in scripts.
/// </summary>
public static class TypeAccelerators
{
    public static IReadOnlyDictionary<string, Type> All { get; } = new[]
    {
        typeof(MlpDataset), typeof(MlpModel), typeof(Preprocessing), typeof(EpochRecord), typeof(AccuracyResult), typeof(ClassAccuracy),
        typeof(ConfusionMatrix), typeof(RegressionResult), typeof(TargetMetrics), typeof(Prediction), typeof(RegressionPrediction), typeof(MlpTask),
    }.ToDictionary(t => t.Name);
}
