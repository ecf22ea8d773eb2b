using System.Management.Automation;
using MlpTools.Core.Data;
using MlpTools.Core.Data.Tabular;
using MlpTools.Core.Platform;

namespace MlpTools.Commands;

/// <summary>
/// Turns objects from the pipeline (Import-Csv rows, Get-Process, Invoke-RestMethod, ...) into a dataset: one property the
/// label (classification) or one or more the targets (regression), the others features.
/// </summary>
[Cmdlet(VerbsData.ConvertTo, "MlpDataset", DefaultParameterSetName = ClassificationSet)]
[OutputType(typeof(MlpDataset))]
public sealed class ConvertToMlpDatasetCommand : MlpCmdlet
{
    private const string ClassificationSet = "Classification";
    private const string RegressionSet = "Regression";

    private TableBuilder? _builder;
    private string[] _columns = Array.Empty<string>();
    private object?[] _values = Array.Empty<object?>();
    private long _rows;

    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    [AllowNull]
    public PSObject? InputObject { get; set; }

    /// <summary>The property holding each object's class; its values become the class names.</summary>
    [Parameter(ParameterSetName = ClassificationSet)]
    [ValidateNotNullOrEmpty]
    public string? LabelProperty { get; set; }

    /// <summary>One or more numeric properties to estimate (regression).</summary>
    [Parameter(Mandatory = true, ParameterSetName = RegressionSet)]
    [ValidateNotNullOrEmpty]
    public string[] TargetProperty { get; set; } = Array.Empty<string>();

    /// <summary>The properties to use as features; by default every property but the label or targets.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? FeatureProperty { get; set; }

    /// <summary>Properties to one-hot encode even when their values look like numbers (codes, years as categories).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? CategoricalProperty { get; set; }

    /// <summary>What to do with an empty or missing value: Error (default), DropRow, or Fill (numbers: the mean; categories: the most frequent).</summary>
    [Parameter]
    public MissingValuePolicy MissingValue { get; set; } = MissingValuePolicy.Error;

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string Name { get; set; } = "Data";

    protected override bool GathersAllInput => true;

    protected override void ProcessItem()
    {
        if (InputObject is null)
        {
            return;
        }
        if (_builder is null)
        {
            // The first object decides the columns, as Export-Csv's header does.
            _columns = InputObject.Properties.Select(p => p.Name).ToArray();
            WriteDebug($"Columns from the first object: {string.Join(", ", _columns)}.");
            _values = new object?[_columns.Length];
            _builder = new TableBuilder(_columns, new TableBuilderOptions
            {
                LabelColumn = LabelProperty,
                TargetColumns = ParameterSetName == RegressionSet ? TargetProperty : null,
                FeatureColumns = FeatureProperty,
                CategoricalColumns = CategoricalProperty,
                Missing = MissingValue,
                RequireLabel = LabelProperty is not null,
            });
        }
        var properties = InputObject.Properties;
        for (int i = 0; i < _columns.Length; i++)
        {
            object? value = properties[_columns[i]]?.Value;
            _values[i] = value is PSObject wrapped ? wrapped.BaseObject : value;
        }
        _builder.AddRow(_values);
        if (++_rows % 4096 == 0)
        {
            StopToken.ThrowIfCancellationRequested();
        }
    }

    protected override void EndItems()
    {
        if (_builder is null)
        {
            throw new MlpToolsException(ErrorIds.DataEmpty,
                "ConvertTo-MlpDataset received no objects. Pipe rows into it, for example 'Import-Csv data.csv | ConvertTo-MlpDataset -LabelProperty Class'.", null);
        }
        var table = _builder.Build("pipeline objects");
        foreach (string warning in table.Warnings)
        {
            WriteWarning(warning);
        }
        var dataset = MlpDataset.FromTable(Name, "All", table, "pipeline objects");
        string answers = dataset.Task == MlpTask.Regression ? $"{dataset.TargetNames.Count} target(s)" : $"{dataset.ClassCount} classes";
        WriteVerbose($"Built dataset '{dataset.Name}' from {_rows:N0} object(s): {dataset.Count:N0} examples of {dataset.FeatureCount} encoded features, {answers}.");
        WriteObject(dataset);
    }
}
