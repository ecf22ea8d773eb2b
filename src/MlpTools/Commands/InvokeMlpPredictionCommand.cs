using System.Diagnostics;
using System.Management.Automation;
using MlpTools.Core.Data;
using MlpTools.Core.Data.Images;
using MlpTools.Core.Data.Tabular;
using MlpTools.Core.Modeling;
using MlpTools.Core.Platform;
using MlpTools.Core.Training;

namespace MlpTools.Commands;

/// <summary>
/// A model's answers: for examples of a dataset, for objects (table rows without a label: Import-Csv rows, API results)
/// or for image files. Classification gives the class, its probability and every class's; regression the estimates.
/// </summary>
[Cmdlet(VerbsLifecycle.Invoke, "MlpPrediction", DefaultParameterSetName = RangeSet)]
[OutputType(typeof(Prediction), typeof(PSObject))]
public sealed class InvokeMlpPredictionCommand : TorchCmdlet
{
    private const string RangeSet = "Range";
    private const string IndexSet = "Index";
    private const string ObjectSet = "Object";
    private const string PathSet = "Path";
    private const string LiteralPathSet = "LiteralPath";
    // Rows are predicted in batches: one forward pass per thousand objects keeps the pipeline fast.
    private const int RowBatchSize = 1000;

    private readonly List<PSObject> _rows = new();
    private long _rowNumber;

    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    public MlpModel Model { get; set; } = null!;

    [Parameter(Mandatory = true, ValueFromPipeline = true, Position = 0, ParameterSetName = RangeSet)]
    [Parameter(Mandatory = true, ValueFromPipeline = true, Position = 0, ParameterSetName = IndexSet)]
    public MlpDataset Dataset { get; set; } = null!;

    /// <summary>Predict only the first N examples (after -Skip).</summary>
    [Parameter(ParameterSetName = RangeSet)]
    [ValidateRange(0, int.MaxValue)]
    public int First { get; set; } = int.MaxValue;

    [Parameter(ParameterSetName = RangeSet)]
    [ValidateRange(0, int.MaxValue)]
    public int Skip { get; set; }

    /// <summary>Predict exactly these examples, by position in the dataset.</summary>
    [Parameter(Mandatory = true, ParameterSetName = IndexSet)]
    [ValidateNotNullOrEmpty]
    public int[] Index { get; set; } = Array.Empty<int>();

    /// <summary>Rows to predict: objects with a property for each of the model's features (other properties are kept and ignored).</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = ObjectSet)]
    public PSObject[] InputObject { get; set; } = Array.Empty<PSObject>();

    /// <summary>Object rows: what a category the model never saw becomes: an error for that row (Error), or none of the column's categories (Ignore).</summary>
    [Parameter(ParameterSetName = ObjectSet)]
    public UnknownCategoryPolicy UnknownCategory { get; set; } = UnknownCategoryPolicy.Error;

    /// <summary>Image files (PNG, JPEG) to classify; wildcards are expanded.</summary>
    [Parameter(Mandatory = true, ParameterSetName = PathSet, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[] Path { get; set; } = Array.Empty<string>();

    /// <summary>Image files taken exactly as written.</summary>
    [Parameter(Mandatory = true, ParameterSetName = LiteralPathSet, ValueFromPipelineByPropertyName = true)]
    [Alias("PSPath", "LP")]
    [ValidateNotNullOrEmpty]
    public string[] LiteralPath { get; set; } = Array.Empty<string>();

    protected override void ProcessItem()
    {
        switch (ParameterSetName)
        {
            case ObjectSet:
                _rows.AddRange(InputObject.Where(row => row is not null));
                if (_rows.Count >= RowBatchSize)
                {
                    PredictRows();
                }
                break;
            case PathSet or LiteralPathSet:
                PredictFiles();
                break;
            default:
                PredictDataset();
                break;
        }
    }

    protected override void EndItems()
    {
        if (_rows.Count > 0)
        {
            PredictRows();
        }
    }

    private void PredictDataset()
    {
        using var threads = UseThreadCount(Model);
        IReadOnlyList<int> indices = ParameterSetName == IndexSet
            ? Index
            : Enumerable.Range(Math.Min(Skip, Dataset.Count), Math.Max(0, Math.Min(First, Dataset.Count - Skip))).ToArray();
        WriteVerbose($"Predicting {indices.Count:N0} example(s) of '{Dataset.Name}' ({Dataset.Split}) with '{Model.Name}' ({Model.Layers}).");
        var time = Stopwatch.StartNew();
        string activity = $"Predicting with {Model.Name}";
        int done = 0;
        IEnumerable<object> predictions = Model.Task == MlpTask.Regression
            ? Evaluator.PredictRegression(Model, Dataset, indices, StopToken).Select(Flatten)
            : Evaluator.Predict(Model, Dataset, indices, StopToken);
        foreach (object prediction in predictions)
        {
            ReportProgress(activity, $"{done:N0} of {indices.Count:N0}", done++ / (double)indices.Count);
            WriteObject(prediction);
        }
        WriteVerboseTimed($"Predicted {done:N0} example(s)", time);
    }

    private void PredictRows()
    {
        var schema = Model.Preprocessing.Schema ?? throw new MlpToolsException(ErrorIds.ModelDataKindMismatch,
            $"Model '{Model.Name}' reads images, not objects. Give it image files with -Path, or a dataset with -Dataset.", Model);
        var rows = _rows.ToArray();
        _rows.Clear();
        var encoded = new float[(long)rows.Length * schema.EncodedWidth];
        var good = new List<PSObject>(rows.Length);
        foreach (PSObject row in rows)
        {
            _rowNumber++;
            try
            {
                schema.EncodeRow(name => Unwrap(row.Properties[name]?.Value), _rowNumber,
                    encoded.AsSpan(good.Count * schema.EncodedWidth, schema.EncodedWidth), UnknownCategory);
                good.Add(row);
            }
            catch (MlpToolsException e)
            {
                // One bad row does not stop the others.
                WriteError(ToErrorRecord(e));
            }
        }
        StopToken.ThrowIfCancellationRequested();
        if (good.Count == 0)
        {
            return;
        }
        using var threads = UseThreadCount(Model);
        WriteVerbose($"Predicting {good.Count:N0} object(s) with '{Model.Name}' ({Model.Layers}).");
        var answers = Evaluator.PredictRows(Model, encoded.AsSpan(0, good.Count * schema.EncodedWidth).ToArray(), good.Count);
        for (int i = 0; i < good.Count; i++)
        {
            WriteObject(Describe(CopyProperties(good[i]), answers[i]));
        }
    }

    private void PredictFiles()
    {
        var preprocessing = Model.Preprocessing;
        if (!preprocessing.ReadsImages || preprocessing.ImageHeight == 0)
        {
            throw new MlpToolsException(ErrorIds.ModelDataKindMismatch, preprocessing.ReadsImages
                ? $"Model '{Model.Name}' has {Model.InputSize} inputs, which is not a square image, and it was not trained on images that say their size. Train it on an image dataset first."
                : $"Model '{Model.Name}' reads table rows, not images. Give it objects with -InputObject, or a dataset with -Dataset.", Model);
        }
        bool literal = ParameterSetName == LiteralPathSet;
        ForEachPath(literal ? LiteralPath : Path, literal, ErrorIds.ImageFileNotFound, file =>
        {
            byte[] pixels = ImageFiles.Read(file, preprocessing.ImageHeight, preprocessing.ImageWidth, preprocessing.ImagePreparation);
            WriteDebug($"Read {file} as {preprocessing.ImageHeight}x{preprocessing.ImageWidth} pixels ({preprocessing.ImagePreparation}).");
            RowPrediction answer;
            using (UseThreadCount(Model))
            {
                answer = Evaluator.PredictRows(Model, Array.ConvertAll(pixels, p => (float)p), 1)[0];
            }
            var output = new PSObject();
            output.Properties.Add(new PSNoteProperty("Path", file));
            WriteObject(Describe(output, answer));
        });
    }

    /// <summary>Adds the answer to <paramref name="output"/>: Predicted and Confidence, then Probability_&lt;class&gt; per class; or the estimates.</summary>
    private PSObject Describe(PSObject output, RowPrediction answer)
    {
        if (answer.Values is { } values)
        {
            var targets = Model.Preprocessing.TargetNames;
            for (int t = 0; t < values.Count; t++)
            {
                Set(output, targets.Count == 1 ? "Predicted" : $"Predicted_{targets[t]}", values[t]);
            }
            return output;
        }
        Set(output, "Predicted", answer.ClassName);
        Set(output, "Confidence", answer.Confidence);
        for (int c = 0; c < answer.Probabilities.Count; c++)
        {
            Set(output, $"Probability_{Model.ClassNames[c]}", answer.Probabilities[c]);
        }
        return output;
    }

    private static PSObject Flatten(RegressionPrediction prediction)
    {
        var output = new PSObject();
        output.Properties.Add(new PSNoteProperty("Index", prediction.Index));
        bool single = prediction.Targets.Count == 1;
        for (int t = 0; t < prediction.Targets.Count; t++)
        {
            string suffix = single ? "" : $"_{prediction.Targets[t]}";
            output.Properties.Add(new PSNoteProperty("Predicted" + suffix, prediction.Predicted[t]));
            output.Properties.Add(new PSNoteProperty("Actual" + suffix, prediction.Actual?[t]));
        }
        return output;
    }

    /// <summary>A new object with the row's properties, so the caller's objects are left as they were.</summary>
    private static PSObject CopyProperties(PSObject row)
    {
        var copy = new PSObject();
        foreach (var property in row.Properties)
        {
            object? value;
            try
            {
                value = property.Value;
            }
            catch (Exception e) when (e is GetValueException or ExtendedTypeSystemException)
            {
                continue;
            }
            copy.Properties.Add(new PSNoteProperty(property.Name, value));
        }
        return copy;
    }

    private static void Set(PSObject target, string name, object? value)
    {
        target.Properties.Remove(name);
        target.Properties.Add(new PSNoteProperty(name, value));
    }

    private static object? Unwrap(object? value) => value is PSObject wrapped ? wrapped.BaseObject : value;
}
