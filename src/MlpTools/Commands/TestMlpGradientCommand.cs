using System.Diagnostics;
using System.Globalization;
using System.Management.Automation;
using MlpTools.Core.Data;
using MlpTools.Core.Modeling;
using MlpTools.Core.Training;

namespace MlpTools.Commands;

/// <summary>Compares a model's autograd gradients with the lecture's hand-derived backpropagation or finite differences.</summary>
[Cmdlet(VerbsDiagnostic.Test, "MlpGradient")]
[OutputType(typeof(GradientCheckResult))]
public sealed class TestMlpGradientCommand : TorchCmdlet
{
    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    public MlpModel Model { get; set; } = null!;

    [Parameter(Mandatory = true, ValueFromPipeline = true, Position = 0)]
    public MlpDataset Dataset { get; set; } = null!;

    /// <summary>How many images (the first ones of the dataset) the gradients are taken over.</summary>
    [Parameter]
    [ValidateRange(1, 10_000)]
    public int BatchSize { get; set; } = 16;

    /// <summary>λ of J = L + λ/2·Σ‖W‖², so the check covers the regularisation term too.</summary>
    [Parameter]
    [ValidateRange(0.0, 1e3)]
    public double WeightDecay { get; set; }

    [Parameter]
    public GradientCheck.Method Method { get; set; } = GradientCheck.Method.Auto;

    /// <summary>Seed of the choice of entries checked by finite differences.</summary>
    [Parameter]
    public long Seed { get; set; }

    protected override void ProcessItem()
    {
        using var threads = UseThreadCount(Model);
        WriteVerbose(string.Create(CultureInfo.InvariantCulture,
            $"Checking the gradients of '{Model.Name}' ({Model.Layers}) on the first {Math.Min(BatchSize, Dataset.Count)} example(s) of '{Dataset.Name}', method {Method}, weight decay {WeightDecay:G4}, seed {Seed}."));
        var time = Stopwatch.StartNew();
        string activity = $"Checking gradients of {Model.Name}";
        ReportProgress(activity, "Autograd", 0);
        var results = GradientCheck.Run(Model, Dataset, BatchSize, WeightDecay, Method, Seed, ProgressOf(activity));
        foreach (var result in results)
        {
            WriteDebug(string.Create(CultureInfo.InvariantCulture, $"{result.Layer}: {result.EntriesChecked} entries by {result.Method}, largest relative error {result.MaxRelativeError:G3}."));
        }
        WriteVerboseTimed($"Checked {results.Count} weight matrices", time);
        foreach (var result in results)
        {
            WriteObject(result);
        }
    }
}
