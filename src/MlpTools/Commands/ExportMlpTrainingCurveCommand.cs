using System.Management.Automation;
using MlpTools.Core.Imaging;

namespace MlpTools.Commands;

/// <summary>Draws the loss and the training and validation accuracy per epoch from epoch records.</summary>
[Cmdlet(VerbsData.Export, "MlpTrainingCurve", SupportsShouldProcess = true)]
[OutputType(typeof(FileInfo))]
public sealed class ExportMlpTrainingCurveCommand : ImageExportCmdlet
{
    private readonly List<EpochPoint> _points = new();

    /// <summary>Epoch records from Invoke-MlpTraining, or rows of their CSV export.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    public PSObject InputObject { get; set; } = null!;

    [Parameter]
    [ValidateRange(200, 10_000)]
    public int Width { get; set; } = 1000;

    [Parameter]
    [ValidateRange(150, 10_000)]
    public int Height { get; set; } = 420;

    /// <summary>A heading over both charts; none when omitted.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Title { get; set; }

    protected override void ProcessItem() => _points.Add(InputObjects.ToEpochPoint(InputObject, MyInvocation.MyCommand.Name));

    protected override void EndItems()
    {
        if (_points.Count == 0)
        {
            return; // every input was refused with its own error
        }
        Export($"training curves of {_points.Count} epochs ({Width}x{Height})", () => TrainingCurves.Render(_points, Width, Height, Title));
    }
}
