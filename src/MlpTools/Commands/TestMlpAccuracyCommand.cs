using System.Management.Automation;
using MlpTools.Core.Data;
using MlpTools.Core.Modeling;
using MlpTools.Core.Training;

namespace MlpTools.Commands;

/// <summary>Measures a model's accuracy on a dataset: overall, per class (precision, recall, F1) and as a confusion matrix.</summary>
[Cmdlet(VerbsDiagnostic.Test, "MlpAccuracy")]
[OutputType(typeof(AccuracyResult))]
public sealed class TestMlpAccuracyCommand : TorchCmdlet
{
    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    public MlpModel Model { get; set; } = null!;

    [Parameter(Mandatory = true, ValueFromPipeline = true, Position = 0)]
    public MlpDataset Dataset { get; set; } = null!;

    /// <summary>Also fail with AccuracyBelowMinimum when the accuracy is below this fraction: a one-line check for tests and scheduled tasks.</summary>
    [Parameter]
    [ValidateRange(0.0, 1.0)]
    public double? MinimumAccuracy { get; set; }

    protected override void ProcessItem()
    {
        using var threads = UseThreadCount();
        AccuracyResult result = Evaluator.Accuracy(Model, Dataset);
        WriteObject(result);
        if (MinimumAccuracy is double minimum)
        {
            result.EnsureAtLeast(minimum);
        }
    }
}
