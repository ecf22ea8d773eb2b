using MlpTools.Core.Platform;
using MlpTools.Core.Training;
using Xunit;
using static MlpTools.Core.Tests.TestData;

namespace MlpTools.Core.Tests;

public class ConfusionMatrixTests(TrainedModelFixture trained) : IClassFixture<TrainedModelFixture>
{
    /// <summary>
    /// The trained model answers each image's pattern (alternating 0, 1, ...). Images 0-39 keep their labels; of
    /// 40-63, the odd ones (pattern 1, 12 of them) are relabelled 0. Counted by hand:
    /// actual 0: 20 (images 0-39) + 12 (even 40-62) answered 0, 12 (odd 41-63) answered 1; actual 1: 20 answered 1.
    /// </summary>
    private AccuracyResult MeasurePartlyRelabelled()
    {
        byte[] labels = Enumerable.Range(0, 64).Select(i => (byte)(i >= 40 ? 0 : i % 2)).ToArray();
        return Evaluator.Accuracy(trained.Model, WithLabels(trained.Train, labels, "relabelled"));
    }

    [Fact]
    public void CountsEveryPairOfLabelAndAnswer()
    {
        ConfusionMatrix matrix = MeasurePartlyRelabelled().ConfusionMatrix;

        Assert.Equal(2, matrix.ClassCount);
        Assert.Equal(new[] { new[] { 32, 12 }, new[] { 0, 20 } }, matrix.ToArray());
        Assert.Equal((32, 12, 0, 20), (matrix.GetCount(0, 0), matrix.GetCount(0, 1), matrix.GetCount(1, 0), matrix.GetCount(1, 1)));
        Assert.Equal(64, matrix.Total);
        Assert.Equal((44, 20), (matrix.ActualTotal(0), matrix.ActualTotal(1)));
        Assert.Equal((32, 32), (matrix.PredictedTotal(0), matrix.PredictedTotal(1)));
    }

    [Fact]
    public void PerClassPrecisionRecallAndF1FollowFromTheMatrix()
    {
        var result = MeasurePartlyRelabelled();

        Assert.Equal(52, result.Correct);
        Assert.Equal(new[] { new ClassAccuracy(0, 32, 44, 32), new ClassAccuracy(1, 20, 20, 32) }, result.PerClass);
        ClassAccuracy zero = result.PerClass[0], one = result.PerClass[1];
        Assert.Equal((1.0, 32.0 / 44), (zero.Precision, zero.Recall));
        Assert.Equal(2 * (32.0 / 44) / (1 + 32.0 / 44), zero.F1, 12);
        Assert.Equal((20.0 / 32, 1.0), (one.Precision, one.Recall));
        Assert.Equal(2 * 0.625 / 1.625, one.F1, 12);
        Assert.Equal(one.Accuracy, one.Recall);
    }

    [Fact]
    public void CellsAndMistakesAreObjects()
    {
        ConfusionMatrix matrix = MeasurePartlyRelabelled().ConfusionMatrix;

        Assert.Equal(new[] { new ConfusionCell(0, 0, 32), new ConfusionCell(0, 1, 12), new ConfusionCell(1, 0, 0), new ConfusionCell(1, 1, 20) }, matrix.Cells);
        Assert.Equal(new[] { true, false, false, true }, matrix.Cells.Select(c => c.Correct));
        Assert.Equal(new[] { new ConfusionCell(0, 1, 12) }, matrix.Mistakes);
    }

    [Fact]
    public void HasARowAndColumnForEveryClassTheModelCanAnswer()
    {
        // Labels 0 and 2 only, a 3-output untrained model: 3x3, rows sum to the label counts, class 1 has no images.
        var data = InMemory(4, 4, new byte[5 * 16], new byte[] { 2, 0, 2, 2, 0 });
        using var model = Model(outputs: 3);
        var predictions = Evaluator.Predict(model, data, Enumerable.Range(0, 5).ToArray()).ToList();

        ConfusionMatrix matrix = Evaluator.Accuracy(model, data).ConfusionMatrix;

        Assert.Equal(3, matrix.ClassCount);
        Assert.Equal(new[] { 2, 0, 3 }, Enumerable.Range(0, 3).Select(matrix.ActualTotal));
        for (int a = 0; a < 3; a++)
        {
            for (int p = 0; p < 3; p++)
            {
                Assert.Equal(predictions.Count(x => x.Label == a && x.Predicted == p), matrix.GetCount(a, p));
            }
        }
    }

    [Fact]
    public void AClassNeverAnsweredHasNaNPrecisionAndF1()
    {
        var never = new ClassAccuracy(3, 0, 5, 0);
        Assert.True(double.IsNaN(never.Precision));
        Assert.True(double.IsNaN(never.F1));
        Assert.Equal(0, never.Recall);

        var allWrong = new ClassAccuracy(3, 0, 5, 2);
        Assert.Equal((0.0, 0.0, 0.0), (allWrong.Precision, allWrong.Recall, allWrong.F1));
    }

    [Fact]
    public void PrintsAsAnAlignedGrid()
    {
        var matrix = new ConfusionMatrix(3, new[] { 5, 0, 1, 0, 12, 0, 2, 0, 7 });

        Assert.Equal(string.Join('\n',
            "Actual \\ Predicted   0   1   2",
            "                 0   5   0   1",
            "                 1   0  12   0",
            "                 2   2   0   7"), matrix.ToString().ReplaceLineEndings("\n"));
    }

    [Fact]
    public void RefusesCountsThatAreNotSquareAndCellsOutsideIt()
    {
        Assert.Throws<ArgumentException>(() => new ConfusionMatrix(2, new[] { 1, 2, 3 }));
        var matrix = new ConfusionMatrix(2, new[] { 1, 2, 3, 4 });
        Assert.Throws<ArgumentOutOfRangeException>(() => matrix.GetCount(2, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => matrix.GetCount(0, -1));
    }

    [Fact]
    public void AnEmptyDatasetGivesAnAllZeroMatrixOfTheModelsClasses()
    {
        using var model = Model();
        var result = Evaluator.Accuracy(model, InMemory(4, 4, Array.Empty<byte>(), Array.Empty<byte>()));
        Assert.Equal(2, result.ConfusionMatrix.ClassCount);
        Assert.Equal(0, result.ConfusionMatrix.Total);
    }

    [Theory]
    [InlineData(0.8125, true)] // 52 of 64 exactly
    [InlineData(0.5, true)]
    [InlineData(0.82, false)]
    [InlineData(1.0, false)]
    public void EnsureAtLeastPassesFromTheExactAccuracyUp(double minimum, bool passes)
    {
        var result = MeasurePartlyRelabelled();
        Assert.Equal(0.8125, result.Accuracy);
        if (passes)
        {
            result.EnsureAtLeast(minimum);
            return;
        }
        var error = Fails("AccuracyBelowMinimum", () => result.EnsureAtLeast(minimum));
        Assert.Equal(FailureKind.InvalidResult, error.Kind);
        Assert.Same(result, error.Target);
        Assert.Contains("52 of 64", error.Message);
        Assert.Contains("0.8125", error.Message);
    }

    [Fact]
    public void AnEmptyDatasetNeverMeetsAMinimum()
    {
        using var model = Model();
        var result = Evaluator.Accuracy(model, InMemory(4, 4, Array.Empty<byte>(), Array.Empty<byte>()));
        Fails("AccuracyBelowMinimum", () => result.EnsureAtLeast(0));
    }
}
