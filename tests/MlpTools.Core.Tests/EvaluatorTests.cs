using MlpTools.Core.Data;
using MlpTools.Core.Modeling;
using MlpTools.Core.Platform;
using MlpTools.Core.Training;
using Xunit;
using static MlpTools.Core.Tests.TestData;

namespace MlpTools.Core.Tests;

/// <summary>A 16-8-2 model trained once to 100% on the separable set, shared by the tests that need a model that knows the answers.</summary>
public sealed class TrainedModelFixture : IDisposable
{
    public TrainedModelFixture()
    {
        Train = Separable();
        Model = TestData.Model(seed: 1, name: "trained");
        var last = Trainer.Train(Model, Train, null, new TrainingOptions { Epochs = 8, BatchSize = 10, LearningRate = 0.01, Seed = 3 }).Last();
        Assert.Equal(1.0, last.TrainAccuracy);
    }

    public MlpDataset Train { get; }
    public MlpModel Model { get; }

    public void Dispose() => Model.Dispose();
}

public class EvaluatorTests(TrainedModelFixture trained) : IClassFixture<TrainedModelFixture>
{
    [Fact]
    public void AccuracyOfAPerfectModelCountsEveryExampleOfEachClass()
    {
        var result = Evaluator.Accuracy(trained.Model, trained.Train);

        Assert.Equal(("trained", "separable", "Train"), (result.ModelName, result.DatasetName, result.Split));
        Assert.Equal(64, result.Correct);
        Assert.Equal(64, result.Total);
        Assert.Equal(1.0, result.Accuracy);
        Assert.Equal(new[] { new ClassAccuracy(0, 32, 32, 32), new ClassAccuracy(1, 32, 32, 32) }, result.PerClass);
    }

    [Fact]
    public void AccuracyCountsExactlyTheExamplesWhoseLabelsTheModelGetsRight()
    {
        // The trained model predicts the true class of each image; keep the first 40 labels, flip the last 24.
        var truth = trained.Train;
        byte[] labels = Enumerable.Range(0, truth.Count).Select(i => (byte)(i < 40 ? truth.GetLabel(i) : 1 - truth.GetLabel(i))).ToArray();
        var partlyWrong = WithLabels(truth, labels, "partly wrong");

        var result = Evaluator.Accuracy(trained.Model, partlyWrong);

        Assert.Equal(40, result.Correct);
        Assert.Equal(64, result.Total);
        Assert.Equal(40.0 / 64, result.Accuracy);
        // Labels 0..39 alternate 0,1 (20 each correct); 40..63 are flipped, still 12 of each label, all wrong.
        // Predicted 0: 20 right + 12 flipped images of pattern 0 (labelled 1); likewise for 1.
        Assert.Equal(new[] { new ClassAccuracy(0, 20, 32, 32), new ClassAccuracy(1, 20, 32, 32) }, result.PerClass);
        Assert.Equal(20.0 / 32, result.PerClass[0].Accuracy);
    }

    [Fact]
    public void PerClassTotalsAreTheLabelCountsAndAnAbsentClassHasNaNAccuracy()
    {
        // Labels 0 and 2 only; the model has 3 outputs so every label fits, and class 1 never occurs.
        var data = InMemory(4, 4, new byte[5 * 16], new byte[] { 2, 0, 2, 2, 0 });
        using var model = Model(outputs: 3);

        var result = Evaluator.Accuracy(model, data);

        Assert.Equal(new[] { 0, 1, 2 }, result.PerClass.Select(c => c.Class));
        Assert.Equal(new[] { 2, 0, 3 }, result.PerClass.Select(c => c.Total));
        Assert.True(double.IsNaN(result.PerClass[1].Accuracy));
        Assert.Equal(result.Correct, result.PerClass.Sum(c => c.Correct));
        int predictedRight = Evaluator.Predict(model, data, Enumerable.Range(0, 5).ToArray()).Count(p => p.Correct);
        Assert.Equal(predictedRight, result.Correct);
    }

    [Fact]
    public void AccuracyAgreesWithPredictAcrossEvaluationBatches()
    {
        // 2500 images: more than one evaluation batch of 1000, the last one partial.
        var data = Separable(count: 2500, noiseSeed: 9);
        using var model = Model(seed: 5);
        int[] all = Enumerable.Range(0, data.Count).ToArray();

        var result = Evaluator.Accuracy(model, data);
        var predictions = Evaluator.Predict(model, data, all).ToList();

        Assert.Equal(2500, result.Total);
        Assert.Equal(all, predictions.Select(p => p.Index));
        Assert.Equal(predictions.Count(p => p.Correct), result.Correct);
        Assert.Equal(new[] { 1250, 1250 }, result.PerClass.Select(c => c.Total));
        for (int c = 0; c < 2; c++)
        {
            Assert.Equal(predictions.Count(p => p.Label == c && p.Correct), result.PerClass[c].Correct);
        }
    }

    [Fact]
    public void AccuracyOfAnEmptyDatasetIsNaN()
    {
        using var model = Model();
        var result = Evaluator.Accuracy(model, InMemory(4, 4, Array.Empty<byte>(), Array.Empty<byte>()));
        Assert.Equal((0, 0), (result.Correct, result.Total));
        Assert.Empty(result.PerClass);
        Assert.True(double.IsNaN(result.Accuracy));
    }

    [Fact]
    public void PredictReturnsTheRequestedIndicesInOrderWithTheirLabels()
    {
        int[] indices = { 5, 0, 63, 5, 2 };

        var predictions = Evaluator.Predict(trained.Model, trained.Train, indices).ToList();

        Assert.Equal(indices, predictions.Select(p => p.Index));
        Assert.Equal(new[] { 1, 0, 1, 1, 0 }, predictions.Select(p => p.Label));
        Assert.Equal(predictions.Select(p => p.Label), predictions.Select(p => p.Predicted)); // the model is perfect on this set
        Assert.All(predictions, p =>
        {
            Assert.True(p.Correct);
            Assert.True(p.Confidence > 0.5 && p.Confidence <= 1, $"Confidence {p.Confidence}");
        });
        Assert.Equal(predictions[0], predictions[3]);
    }

    [Fact]
    public void PredictionsOfAWrongLabelAreNotCorrect()
    {
        byte[] flipped = Enumerable.Range(0, trained.Train.Count).Select(i => (byte)(1 - trained.Train.GetLabel(i))).ToArray();
        var wrong = WithLabels(trained.Train, flipped);

        var predictions = Evaluator.Predict(trained.Model, wrong, new[] { 0, 1 }).ToList();

        Assert.Equal(new[] { 1, 0 }, predictions.Select(p => p.Label));
        Assert.Equal(new[] { 0, 1 }, predictions.Select(p => p.Predicted));
        Assert.All(predictions, p => Assert.False(p.Correct));
    }

    [Fact]
    public void ConfidenceIsBetweenZeroAndOneForAnUntrainedModel()
    {
        var data = Separable(count: 16);
        using var model = Model(seed: 3, outputs: 10);

        var predictions = Evaluator.Predict(model, data, Enumerable.Range(0, 16).ToArray()).ToList();

        Assert.Equal(16, predictions.Count);
        Assert.All(predictions, p =>
        {
            Assert.InRange(p.Confidence, 0.1, 1.0); // the largest of 10 probabilities is at least 1/10
            Assert.InRange(p.Predicted, 0, 9);
            Assert.Equal(p.Predicted == p.Label, p.Correct);
        });
    }

    [Fact]
    public void PredictingNoIndicesYieldsNothing()
    {
        Assert.Empty(Evaluator.Predict(trained.Model, trained.Train, Array.Empty<int>()));
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(64)]
    [InlineData(int.MaxValue)]
    public void AnIndexOutsideTheDatasetIsRefused(int index)
    {
        var error = Fails("DatasetIndexOutOfRange", () => Evaluator.Predict(trained.Model, trained.Train, new[] { 0, index }).ToList());
        Assert.Equal(index, error.Target);
        Assert.Contains("images 0 to 63", error.Message);
    }

    [Fact]
    public void PredictChecksTheImageSize()
    {
        var wide = InMemory(3, 5, new byte[2 * 15], new byte[] { 0, 1 });
        Fails("ModelInputSizeMismatch", () => Evaluator.Predict(trained.Model, wide, new[] { 0 }).ToList());
    }

    [Fact]
    public void AccuracyChecksTheClassCount()
    {
        var threeClasses = InMemory(4, 4, new byte[3 * 16], new byte[] { 0, 1, 2 });
        Fails("ModelOutputSizeMismatch", () => Evaluator.Accuracy(trained.Model, threeClasses));
    }

    [Fact]
    public void AModelInUseByAPredictionCannotMeasureAccuracyUntilItEnds()
    {
        var data = Separable(count: 8);
        using var model = Model();
        using (var predictions = Evaluator.Predict(model, data, new[] { 0, 1, 2 }).GetEnumerator())
        {
            Assert.True(predictions.MoveNext());
            var error = Fails("ModelInUse", () => Evaluator.Accuracy(model, data));
            Assert.Equal(FailureKind.InvalidOperation, error.Kind);
            Assert.Contains("measuring accuracy", error.Message);
            Fails("ModelInUse", () => Evaluator.Predict(model, data, new[] { 0 }).ToList());
        }
        Assert.Equal(8, Evaluator.Accuracy(model, data).Total);
    }

    [Fact]
    public void ACancelledPredictionThrows()
    {
        using var model = Model();
        Assert.ThrowsAny<OperationCanceledException>(() =>
            Evaluator.Predict(model, Separable(count: 4), new[] { 0 }, new CancellationToken(canceled: true)).ToList());
        Assert.Equal(4, Evaluator.Accuracy(model, Separable(count: 4)).Total);
    }
}
