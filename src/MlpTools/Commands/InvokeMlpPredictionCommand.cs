using System.Management.Automation;
using MlpTools.Core.Data;
using MlpTools.Core.Modeling;
using MlpTools.Core.Training;

namespace MlpTools.Commands;

/// <summary>Classifies images of a dataset, one prediction object per image.</summary>
[Cmdlet(VerbsLifecycle.Invoke, "MlpPrediction", DefaultParameterSetName = RangeSet)]
[OutputType(typeof(Prediction))]
public sealed class InvokeMlpPredictionCommand : TorchCmdlet
{
    private const string RangeSet = "Range";
    private const string IndexSet = "Index";

    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    public MlpModel Model { get; set; } = null!;

    [Parameter(Mandatory = true, ValueFromPipeline = true, Position = 0)]
    public MlpDataset Dataset { get; set; } = null!;

    /// <summary>Predict only the first N images (after -Skip).</summary>
    [Parameter(ParameterSetName = RangeSet)]
    [ValidateRange(0, int.MaxValue)]
    public int First { get; set; } = int.MaxValue;

    [Parameter(ParameterSetName = RangeSet)]
    [ValidateRange(0, int.MaxValue)]
    public int Skip { get; set; }

    /// <summary>Predict exactly these images, by position in the dataset.</summary>
    [Parameter(Mandatory = true, ParameterSetName = IndexSet)]
    [ValidateNotNullOrEmpty]
    public int[] Index { get; set; } = Array.Empty<int>();

    protected override void ProcessItem()
    {
        using var threads = UseThreadCount();
        IReadOnlyList<int> indices = ParameterSetName == IndexSet
            ? Index
            : Enumerable.Range(Math.Min(Skip, Dataset.Count), Math.Max(0, Math.Min(First, Dataset.Count - Skip))).ToArray();
        foreach (Prediction prediction in Evaluator.Predict(Model, Dataset, indices, StopToken))
        {
            WriteObject(prediction);
        }
    }
}
