using System.Management.Automation;
using MlpTools.Core.Imaging;

namespace MlpTools.Commands;

/// <summary>Draws the validation score of every trial of a sweep, and per value of each swept parameter, from Invoke-MlpSweep's records.</summary>
[Cmdlet(VerbsData.Export, "MlpSweepChart", SupportsShouldProcess = true)]
[OutputType(typeof(FileInfo))]
public sealed class ExportMlpSweepChartCommand : ImageExportCmdlet
{
    private readonly List<SweepPoint> _trials = new();

    /// <summary>Trial records from Invoke-MlpSweep, or the trial lines of its result file read with ConvertFrom-Json.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    public PSObject InputObject { get; set; } = null!;

    [Parameter]
    [ValidateRange(200, 10_000)]
    public int Width { get; set; } = 1000;

    /// <summary>By default 380 pixels per row of charts.</summary>
    [Parameter]
    [ValidateRange(150, 10_000)]
    public int? Height { get; set; }

    /// <summary>A heading over the charts; none when omitted.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Title { get; set; }

    protected override void ProcessItem() => _trials.Add(InputObjects.ToSweepPoint(InputObject, MyInvocation.MyCommand.Name));

    protected override void EndItems()
    {
        if (_trials.Count == 0)
        {
            return; // every input was refused with its own error
        }
        Export($"the sweep chart of {_trials.Count} trials ({(Height is int height ? $"{Width}x{height}" : $"{Width} wide")})", () => SweepChart.Render(_trials, Width, Height, Title));
    }
}
