using System.Management.Automation;
using MlpTools.Core.Data;
using MlpTools.Core.Modeling;
using MlpTools.Core.Training;

namespace MlpTools.Commands;

/// <summary>Measures a model's accuracy on a dataset, overall and per class.</summary>
[Cmdlet(VerbsDiagnostic.Test, "MlpAccuracy")]
[OutputType(typeof(AccuracyResult))]
public sealed class TestMlpAccuracyCommand : MlpCmdlet
{
    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    public MlpModel Model { get; set; } = null!;

    [Parameter(Mandatory = true, ValueFromPipeline = true, Position = 0)]
    public MnistDataset Dataset { get; set; } = null!;

    protected override void ProcessItem() => WriteObject(Evaluator.Accuracy(Model, Dataset));
}
