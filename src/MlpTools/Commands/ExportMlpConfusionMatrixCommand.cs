using System.Globalization;
using System.Management.Automation;
using MlpTools.Core.Imaging;
using MlpTools.Core.Platform;
using MlpTools.Core.Training;

namespace MlpTools.Commands;

/// <summary>Draws the confusion matrix of an accuracy result as a heat map.</summary>
[Cmdlet(VerbsData.Export, "MlpConfusionMatrix", SupportsShouldProcess = true)]
[OutputType(typeof(FileInfo))]
public sealed class ExportMlpConfusionMatrixCommand : ImageExportCmdlet
{
    private AccuracyResult? _drawn;

    /// <summary>A result of Test-MlpAccuracy.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    public AccuracyResult InputObject { get; set; } = null!;

    [Parameter]
    [ValidateRange(200, 10_000)]
    public int Width { get; set; } = 640;

    [Parameter]
    [ValidateRange(200, 10_000)]
    public int Height { get; set; } = 600;

    /// <summary>The heading; by default the model, the dataset and the accuracy.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Title { get; set; }

    protected override void ProcessItem()
    {
        // One picture per file: a second result would silently replace the first.
        if (_drawn is not null)
        {
            throw new MlpToolsException(ErrorIds.ImageInputExtra,
                $"{MyInvocation.MyCommand.Name} draws one result per file and already drew {Describe(_drawn)} to '{Path}'; {Describe(InputObject)} was not drawn. " +
                "Export each result to its own file, e.g. ForEach-Object { $_ | Export-MlpConfusionMatrix -Path \"$($_.Split).png\" }.", InputObject);
        }
        _drawn = InputObject;
        string title = Title ?? string.Format(CultureInfo.InvariantCulture, "{0} on {1} ({2}): accuracy {3:F4}",
            InputObject.ModelName, InputObject.DatasetName, InputObject.Split, InputObject.Accuracy);
        AccuracyResult result = InputObject;
        Export($"the {result.ConfusionMatrix.ClassCount}x{result.ConfusionMatrix.ClassCount} confusion matrix of {Describe(result)} ({Width}x{Height})",
            () => ConfusionHeatmap.Render(result.ConfusionMatrix, title, Width, Height));
    }

    private static string Describe(AccuracyResult result) => $"model '{result.ModelName}' on '{result.DatasetName}' ({result.Split})";
}
