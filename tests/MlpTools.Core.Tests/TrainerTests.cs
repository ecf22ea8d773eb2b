using MlpTools.Core.Modeling;
using MlpTools.Core.Platform;
using MlpTools.Core.Training;
using Xunit;
using static MlpTools.Core.Tests.TestData;

namespace MlpTools.Core.Tests;

public class TrainerTests
{
    // 64 examples in batches of 10: 7 batches an epoch, the last one of 4.
    private static readonly TrainingOptions Options = new() { Epochs = 5, BatchSize = 10, LearningRate = 0.01, Seed = 3 };

    [Fact]
    public void LearnsASeparableSetLossFallsAndAccuracyReachesOne()
    {
        var data = Separable();
        using var model = Model(seed: 1);
        Assert.NotEqual(64, Evaluator.Accuracy(model, data).Correct);

        var records = Trainer.Train(model, data, null, Options).ToList();

        var losses = records.Select(r => r.Loss).ToList();
        Assert.True(losses.Zip(losses.Skip(1)).All(pair => pair.Second < pair.First), $"Losses: {string.Join(", ", losses)}");
        Assert.True(losses[^1] < losses[0] / 4, $"Losses: {string.Join(", ", losses)}");
        Assert.Equal(1.0, records[^1].TrainAccuracy);
        Assert.Equal(64, Evaluator.Accuracy(model, data).Correct);
    }

    [Fact]
    public void YieldsOneRecordPerEpochWithTheRunsSettings()
    {
        var data = Separable();
        using var model = Model(seed: 1, name: "runner");

        var records = Trainer.Train(model, data, null, Options).ToList();

        Assert.Equal(new[] { 1, 2, 3, 4, 5 }, records.Select(r => r.Epoch));
        Assert.Equal(5, model.EpochsTrained);
        Assert.All(records, r =>
        {
            Assert.Equal("runner", r.ModelName);
            Assert.Equal(5, r.Epochs);
            Assert.Equal(10, r.BatchSize);
            Assert.Equal(0.01, r.LearningRate);
            Assert.Equal(3, r.Seed);
            Assert.Null(r.ValidationAccuracy);
            Assert.True(r.Seconds >= 0);
            Assert.True(double.IsFinite(r.Loss) && r.Loss > 0);
            Assert.InRange(r.TrainAccuracy!.Value, 0, 1);
        });
    }

    [Fact]
    public void EpochsTrainedAdvancesAsEachRecordIsYielded()
    {
        using var model = Model();
        using var epochs = Trainer.Train(model, Separable(), null, Options with { Epochs = 3 }).GetEnumerator();

        Assert.Equal(0, model.EpochsTrained);
        Assert.True(epochs.MoveNext());
        Assert.Equal(1, model.EpochsTrained);
        Assert.True(epochs.MoveNext());
        Assert.Equal(2, model.EpochsTrained);
        Assert.Equal(2, epochs.Current.Epoch);
    }

    [Fact]
    public void ASecondTrainingCallContinuesTheEpochCount()
    {
        var data = Separable();
        using var model = Model();

        var first = Trainer.Train(model, data, null, Options with { Epochs = 2 }).ToList();
        var second = Trainer.Train(model, data, null, Options with { Epochs = 3 }).ToList();

        Assert.Equal(new[] { 1, 2 }, first.Select(r => r.Epoch));
        Assert.Equal(new[] { 3, 4, 5 }, second.Select(r => r.Epoch));
        Assert.All(second, r => Assert.Equal(5, r.Epochs));
        Assert.Equal(5, model.EpochsTrained);
    }

    [Fact]
    public void TheSameSeedsGiveIdenticalLossesOnFreshModels()
    {
        var data = Separable();
        using var first = Model(seed: 11);
        using var second = Model(seed: 11);

        var a = Trainer.Train(first, data, null, Options).ToList();
        var b = Trainer.Train(second, data, null, Options).ToList();

        Assert.Equal(a.Select(r => r.Loss), b.Select(r => r.Loss));
        Assert.Equal(a.Select(r => r.TrainAccuracy), b.Select(r => r.TrainAccuracy));
        Assert.Equal(Evaluator.Predict(first, data, new[] { 0, 1, 2, 3 }), Evaluator.Predict(second, data, new[] { 0, 1, 2, 3 }));
    }

    [Fact]
    public void ADifferentShuffleSeedGivesDifferentLosses()
    {
        var data = Separable();
        using var first = Model(seed: 11);
        using var second = Model(seed: 11);

        var a = Trainer.Train(first, data, null, Options with { Seed = 3 }).Select(r => r.Loss).ToList();
        var b = Trainer.Train(second, data, null, Options with { Seed = 4 }).Select(r => r.Loss).ToList();

        Assert.NotEqual(a[0], b[0]);
        Assert.NotEqual(a, b);
    }

    [Fact]
    public void ADifferentModelSeedGivesDifferentLosses()
    {
        var data = Separable();
        using var first = Model(seed: 11);
        using var second = Model(seed: 12);

        var a = Trainer.Train(first, data, null, Options).Select(r => r.Loss).ToList();
        var b = Trainer.Train(second, data, null, Options).Select(r => r.Loss).ToList();

        Assert.NotEqual(a[0], b[0]);
    }

    [Theory]
    [InlineData(0, 10, 0.01, "Epochs")]
    [InlineData(-1, 10, 0.01, "Epochs")]
    [InlineData(1, 0, 0.01, "BatchSize")]
    [InlineData(1, -8, 0.01, "BatchSize")]
    [InlineData(1, 10, 0.0, "LearningRate")]
    [InlineData(1, 10, -0.001, "LearningRate")]
    [InlineData(1, 10, double.NaN, "LearningRate")]
    [InlineData(1, 10, double.PositiveInfinity, "LearningRate")]
    public void InvalidOptionsAreRefusedBeforeTraining(int epochs, int batchSize, double learningRate, string option)
    {
        using var model = Model();
        var options = new TrainingOptions { Epochs = epochs, BatchSize = batchSize, LearningRate = learningRate };

        var error = Fails("TrainingOptionInvalid", () => Trainer.Train(model, Separable(count: 8), null, options).ToList());

        Assert.Equal(FailureKind.InvalidArgument, error.Kind);
        Assert.StartsWith(option + " must be", error.Message);
        Assert.Equal(0, model.EpochsTrained);
    }

    [Fact]
    public void TheDefaultsAreTheNotebooks()
    {
        var defaults = new TrainingOptions();
        Assert.Equal(10, defaults.Epochs);
        Assert.Equal(256, defaults.BatchSize);
        Assert.Equal(1e-3, defaults.LearningRate);
        Assert.Equal(0, defaults.Seed);
    }

    [Fact]
    public void ADatasetThatDoesNotFitTheModelIsRefused()
    {
        using var model = Model(outputs: 2);
        var wide = InMemory(3, 5, new byte[2 * 15], new byte[] { 0, 1 });
        var threeClasses = InMemory(4, 4, new byte[3 * 16], new byte[] { 0, 1, 2 });

        Fails("ModelInputSizeMismatch", () => Trainer.Train(model, wide, null, Options).ToList());
        Fails("ModelOutputSizeMismatch", () => Trainer.Train(model, Separable(), threeClasses, Options).ToList());
        Assert.Equal(0, model.EpochsTrained);
    }

    [Fact]
    public void ProgressIsReportedForEveryBatchAndEndsAtTheEpochsLoss()
    {
        var data = Separable();
        using var model = Model();
        var progress = new SyncProgress<TrainingProgress>();

        var records = Trainer.Train(model, data, null, Options with { Epochs = 2 }, progress).ToList();

        var expected = from epoch in Enumerable.Range(1, 2)
                       from batch in Enumerable.Range(1, 7)
                       select (epoch, 2, batch, 7);
        Assert.Equal(expected, progress.Reports.Select(p => (p.Epoch, p.Epochs, p.Batch, p.Batches)));
        // The running loss after an epoch's last batch is that epoch's mean batch loss.
        Assert.Equal(records[0].Loss, progress.Reports[6].RunningLoss);
        Assert.Equal(records[1].Loss, progress.Reports[13].RunningLoss);
        Assert.All(progress.Reports, p => Assert.True(p.RunningLoss > 0));
    }

    [Fact]
    public void OneBatchCoversTheWholeSetWhenTheBatchSizeExceedsIt()
    {
        var progress = new SyncProgress<TrainingProgress>();
        using var model = Model();

        Trainer.Train(model, Separable(count: 12), null, Options with { Epochs = 1, BatchSize = 256 }, progress).ToList();

        var report = Assert.Single(progress.Reports);
        Assert.Equal((1, 1), (report.Batch, report.Batches));
    }

    [Fact]
    public void CancellingMidTrainingThrowsAndLeavesTheModelUsable()
    {
        var data = Separable();
        using var model = Model();
        using var cancel = new CancellationTokenSource();
        var progress = new SyncProgress<TrainingProgress>(p =>
        {
            if (p.Epoch == 2 && p.Batch == 3)
            {
                cancel.Cancel();
            }
        });
        var records = new List<EpochRecord>();

        Assert.ThrowsAny<OperationCanceledException>(() =>
        {
            foreach (var record in Trainer.Train(model, data, null, Options, progress, cancel.Token))
            {
                records.Add(record);
            }
        });

        Assert.Equal(new[] { 1 }, records.Select(r => r.Epoch));
        Assert.Equal(1, model.EpochsTrained);
        Assert.Equal((2, 3), (progress.Reports[^1].Epoch, progress.Reports[^1].Batch)); // stopped before batch 4
        Assert.Equal(64, Evaluator.Accuracy(model, data).Total);
        Assert.Single(Trainer.Train(model, data, null, Options with { Epochs = 1 }));
        Assert.Equal(2, model.EpochsTrained);
    }

    [Fact]
    public void AnAlreadyCancelledTokenStopsBeforeTheFirstBatch()
    {
        using var model = Model();
        var progress = new SyncProgress<TrainingProgress>();

        Assert.ThrowsAny<OperationCanceledException>(() =>
            Trainer.Train(model, Separable(), null, Options, progress, new CancellationToken(canceled: true)).ToList());

        Assert.Empty(progress.Reports);
        Assert.Equal(0, model.EpochsTrained);
    }

    [Fact]
    public void ValidationAccuracyIsMeasuredOnTheValidationSet()
    {
        var train = Separable();
        var validation = Separable(count: 20, noiseSeed: 5, split: "Test");
        using var model = Model();

        var records = Trainer.Train(model, train, validation, Options with { Epochs = 2 }).ToList();

        Assert.All(records, r => Assert.NotNull(r.ValidationAccuracy));
        Assert.Equal(Evaluator.Accuracy(model, validation).Accuracy, records[^1].ValidationAccuracy);
        Assert.Equal(Evaluator.Accuracy(model, train).Accuracy, records[^1].TrainAccuracy);
    }

    [Fact]
    public void AModelBusyInTrainingCannotBeUsedElsewhere()
    {
        var data = Separable();
        using var model = Model();
        using (var epochs = Trainer.Train(model, data, null, Options with { Epochs = 2 }).GetEnumerator())
        {
            Assert.True(epochs.MoveNext());
            Fails("ModelInUse", () => Evaluator.Accuracy(model, data));
            Fails("ModelInUse", () => Trainer.Train(model, data, null, Options).ToList());
        }
        Assert.Equal(64, Evaluator.Accuracy(model, data).Total);
        Assert.Equal(1, model.EpochsTrained);
    }

    [Fact]
    public void AnEmptyDatasetIsRefused()
    {
        using var model = Model();
        Fails("DatasetEmpty", () => Trainer.Train(model, Separable(count: 0), null, Options).ToList());
    }

    [Fact]
    public void DisposingAModelWhileItTrainsFreesItWhenTrainingEnds()
    {
        var data = Separable();
        var model = Model();
        using (var epochs = Trainer.Train(model, data, null, Options with { Epochs = 3 }).GetEnumerator())
        {
            Assert.True(epochs.MoveNext());
            model.Dispose();
            Assert.True(epochs.MoveNext());
            Assert.Equal(2, epochs.Current.Epoch);
        }
        Fails("ModelDisposed", () => Evaluator.Accuracy(model, data));
    }
}
