using System.Management.Automation;
using MlpTools.Core.Data;
using MlpTools.Core.Imaging;

namespace MlpTools.Commands;

/// <summary>Draws images of a dataset in a grid under "Pred:x, Label:y" titles, as the lecture notebook shows test digits.</summary>
[Cmdlet(VerbsData.Export, "MlpDigitGrid", DefaultParameterSetName = PredictionSet, SupportsShouldProcess = true)]
[OutputType(typeof(FileInfo))]
public sealed class ExportMlpDigitGridCommand : ImageExportCmdlet
{
    private const string PredictionSet = "Prediction";
    private const string IndexSet = "Index";
    private readonly List<DigitTile> _tiles = new();

    /// <summary>Predictions from Invoke-MlpPrediction, or any objects with Index, Label and (optionally) Predicted.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = PredictionSet)]
    public PSObject InputObject { get; set; } = null!;

    /// <summary>The dataset the images come from: the one the predictions were made on.</summary>
    [Parameter(Mandatory = true)]
    public MlpDataset Dataset { get; set; } = null!;

    /// <summary>Draw these images of the dataset, titled with their labels only.</summary>
    [Parameter(Mandatory = true, ParameterSetName = IndexSet)]
    [ValidateNotNullOrEmpty]
    public int[] Index { get; set; } = Array.Empty<int>();

    [Parameter]
    [ValidateRange(1, 100)]
    public int Columns { get; set; } = 5;

    /// <summary>Screen pixels per image pixel: 4 draws a 28x28 digit as 112x112.</summary>
    [Parameter]
    [ValidateRange(1, 32)]
    public int Scale { get; set; } = 4;

    protected override void ProcessItem()
    {
        if (ParameterSetName == PredictionSet)
        {
            _tiles.Add(InputObjects.ToTile(InputObject, MyInvocation.MyCommand.Name));
        }
    }

    protected override void EndItems()
    {
        if (ParameterSetName == IndexSet)
        {
            _tiles.AddRange(Index.Select(i => new DigitTile(i, i >= 0 && i < Dataset.Count ? Dataset.GetLabel(i) : -1)));
        }
        DigitGrid.Validate(Dataset, _tiles);
        var (width, height) = DigitGrid.Size(_tiles.Count, Columns, Dataset.ImageHeight, Dataset.ImageWidth, Scale);
        Export($"a grid of {_tiles.Count} images ({width}x{height})", () => DigitGrid.Render(Dataset, _tiles, Columns, Scale));
    }
}
