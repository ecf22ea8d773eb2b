using System.Management.Automation;
using MlpTools.Core.Data;

namespace MlpTools.Commands;

/// <summary>Splits a dataset into a training and a test part at random (seeded), stratified by class on request.</summary>
[Cmdlet(VerbsCommon.Split, "MlpDataset")]
[OutputType(typeof(MlpDataset))]
public sealed class SplitMlpDatasetCommand : MlpCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    public MlpDataset Dataset { get; set; } = null!;

    /// <summary>The share of the examples that go to the test part (the second output).</summary>
    [Parameter]
    [ValidateRange(0.0, 1.0)]
    public double TestFraction { get; set; } = 0.2;

    /// <summary>Seed of the shuffle: the same seed gives the same split.</summary>
    [Parameter]
    public int Seed { get; set; }

    /// <summary>Keep each class's share the same in both parts (classification only).</summary>
    [Parameter]
    public SwitchParameter Stratify { get; set; }

    protected override void ProcessItem()
    {
        var (train, test) = DatasetSplit.Split(Dataset, TestFraction, Seed, Stratify);
        WriteVerbose($"Split '{Dataset.Name}' ({Dataset.Count:N0} examples) into {train.Count:N0} for training and {test.Count:N0} for testing, seed {Seed}{(Stratify ? ", stratified by class" : "")}.");
        WriteObject(train);
        WriteObject(test);
    }
}
