using System.Diagnostics;
using System.Globalization;
using System.Management.Automation;
using MlpTools.Core.Data;
using MlpTools.Core.Modeling;
using MlpTools.Core.Platform;
using MlpTools.Core.Training;

namespace MlpTools.Commands;

/// <summary>
/// Measures a model on a dataset: accuracy overall, per class (precision, recall, F1) and as a confusion matrix; for a
/// regression model, RMSE, MAE and R² overall and per target.
/// </summary>
[Cmdlet(VerbsDiagnostic.Test, "MlpAccuracy")]
[OutputType(typeof(AccuracyResult), typeof(RegressionResult))]
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
        using var threads = UseThreadCount(Model);
        WriteVerbose($"Measuring '{Model.Name}' ({Model.Layers}) on '{Dataset.Name}' ({Dataset.Split}, {Dataset.Count:N0} examples).");
        var time = Stopwatch.StartNew();
        IProgress<double> progress = ProgressOf($"Measuring {Model.Name} on {Dataset.Name}");
        if (Model.Task == MlpTask.Regression)
        {
            if (MinimumAccuracy is not null)
            {
                throw new MlpToolsException(ErrorIds.AccuracyNotApplicable,
                    $"Model '{Model.Name}' is a regression model, which has no accuracy. Check its .R2 or .Rmse instead, for example " +
                    "'if ((Test-MlpAccuracy -Model $m -Dataset $d).R2 -lt 0.8) { throw }'.", Model);
            }
            RegressionResult regression = Evaluator.Regression(Model, Dataset, progress);
            WriteVerboseTimed(string.Create(CultureInfo.InvariantCulture, $"RMSE {regression.Rmse:G4}, R² {regression.R2:F4} over {regression.Total:N0} examples"), time);
            WriteObject(regression);
            return;
        }
        AccuracyResult result = Evaluator.Accuracy(Model, Dataset, progress);
        WriteVerboseTimed(string.Create(CultureInfo.InvariantCulture, $"Accuracy {result.Accuracy:F4} ({result.Correct:N0} of {result.Total:N0} right)"), time);
        WriteObject(result);
        if (MinimumAccuracy is double minimum)
        {
            result.EnsureAtLeast(minimum);
        }
    }
}
