using MlpTools.Core.Platform;

namespace MlpTools.Core.Data;

/// <summary>Seeded random splits of a dataset into a training and a test part.</summary>
public static class DatasetSplit
{
    /// <summary>
    /// The examples shuffled with <paramref name="seed"/>; round(count × <paramref name="testFraction"/>) of them (per class when
    /// <paramref name="stratify"/>) form the test part, the rest the training part, each in the dataset's original order.
    /// </summary>
    public static (MlpDataset Train, MlpDataset Test) Split(MlpDataset dataset, double testFraction, int seed, bool stratify)
    {
        if (!(testFraction > 0 && testFraction < 1))
        {
            throw new MlpToolsException(ErrorIds.SplitFractionInvalid,
                $"The test fraction must be above 0 and below 1, not {testFraction}.", testFraction);
        }
        if (stratify && dataset.Labels is null)
        {
            throw new MlpToolsException(ErrorIds.SplitStratifyUnsupported,
                $"Dataset '{dataset.Name}' has no classes to stratify by ({(dataset.Task == MlpTask.Regression ? "it is regression data" : "it is unlabelled")}). Leave -Stratify out.", dataset);
        }
        var random = new Random(seed);
        IEnumerable<int[]> groups = stratify
            ? Enumerable.Range(0, dataset.Count).GroupBy(dataset.GetLabel).OrderBy(g => g.Key).Select(g => g.ToArray())
            : new[] { Enumerable.Range(0, dataset.Count).ToArray() };
        var test = new List<int>();
        foreach (int[] group in groups)
        {
            random.Shuffle(group);
            test.AddRange(group.Take((int)Math.Round(group.Length * testFraction, MidpointRounding.AwayFromZero)));
        }
        var inTest = test.ToHashSet();
        int[] trainRows = Enumerable.Range(0, dataset.Count).Where(i => !inTest.Contains(i)).ToArray();
        int[] testRows = test.Order().ToArray();
        if (trainRows.Length == 0 || testRows.Length == 0)
        {
            throw new MlpToolsException(ErrorIds.SplitFractionInvalid,
                $"A test fraction of {testFraction} of dataset '{dataset.Name}' ({dataset.Count} examples) leaves {trainRows.Length} for training and {testRows.Length} for testing; both need at least one.", testFraction);
        }
        return (dataset.Subset(trainRows, "Train"), dataset.Subset(testRows, "Test"));
    }
}
