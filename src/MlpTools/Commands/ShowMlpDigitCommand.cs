using System.Management.Automation;
using MlpTools.Core.Data;
using MlpTools.Core.Imaging;

namespace MlpTools.Commands;

/// <summary>Draws images of a dataset in the console with Unicode block characters, one string per image.</summary>
[Cmdlet(VerbsCommon.Show, "MlpDigit", DefaultParameterSetName = PredictionSet)]
[OutputType(typeof(string))]
public sealed class ShowMlpDigitCommand : MlpCmdlet
{
    private const string PredictionSet = "Prediction";
    private const string IndexSet = "Index";

    /// <summary>Predictions from Invoke-MlpPrediction, or any objects with Index, Label and (optionally) Predicted.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = PredictionSet)]
    public PSObject InputObject { get; set; } = null!;

    /// <summary>The dataset the images come from.</summary>
    [Parameter(Mandatory = true, Position = 0)]
    public MlpDataset Dataset { get; set; } = null!;

    /// <summary>Show these images of the dataset, titled with their labels.</summary>
    [Parameter(Mandatory = true, ParameterSetName = IndexSet)]
    [ValidateNotNullOrEmpty]
    public int[] Index { get; set; } = Array.Empty<int>();

    protected override void ProcessItem()
    {
        if (ParameterSetName == PredictionSet)
        {
            WriteObject(DigitText.Render(Dataset, InputObjects.ToTile(InputObject, MyInvocation.MyCommand.Name)));
            return;
        }
        foreach (int index in Index)
        {
            int label = index >= 0 && index < Dataset.Count ? Dataset.GetLabel(index) : -1;
            WriteObject(DigitText.Render(Dataset, new DigitTile(index, label)));
        }
    }
}
