using MlpTools.Core.Data;
using MlpTools.Core.Modeling;
using MlpTools.Core.Persistence;
using MlpTools.Core.Platform;
using MlpTools.Core.Training;
using Xunit;
using static MlpTools.Core.Tests.TestData;

namespace MlpTools.Core.Tests;

public class CheckpointTests
{
    private static readonly TrainingOptions Options = new() { Epochs = 6, BatchSize = 10, LearningRate = 0.01, Seed = 3 };

    /// <summary>The model's weights as SafeTensors bytes: equal bytes, equal weights to the last bit.</summary>
    private static byte[] Weights(MlpModel model, TempFolder folder)
    {
        string path = folder.File(Guid.NewGuid().ToString("N") + ".safetensors");
        ModelFiles.Export(model, path, ModelFileFormat.SafeTensors);
        return File.ReadAllBytes(path);
    }

    [Fact]
    public void ACheckpointIsWrittenAfterEveryEpochAndHoldsTheModelOfThatEpoch()
    {
        using var folder = new TempFolder();
        var data = Separable();
        using var model = Model();
        var checkpoint = TrainingCheckpoint.WriteTo(folder.File("run.ckpt"));
        var epochsInFile = new List<int>();
        var weightsInFile = new List<byte[]>();

        foreach (var record in Trainer.Train(model, data, null, Options with { Epochs = 3 }, checkpoint: checkpoint))
        {
            using var saved = ModelFiles.Import(checkpoint.Path);
            epochsInFile.Add(saved.EpochsTrained);
            weightsInFile.Add(Weights(saved, folder));
            Assert.Equal(record, saved.History.LastEpoch);
        }

        Assert.Equal(new[] { 1, 2, 3 }, epochsInFile);
        Assert.NotEqual(weightsInFile[0], weightsInFile[1]);
        Assert.Equal(Weights(model, folder), weightsInFile[2]);
        Assert.Equal(new[] { "run.ckpt" }, Directory.GetFiles(folder.Path, "*.ckpt*").Select(Path.GetFileName));
    }

    /// <summary>Trains with checkpoints and stops the run in the third batch of epoch <paramref name="stopInEpoch"/>; returns the records it yielded.</summary>
    private static List<EpochRecord> TrainUntilStopped(MlpModel model, MlpDataset data, MlpDataset? validation, TrainingOptions options,
        TrainingCheckpoint checkpoint, int stopInEpoch)
    {
        using var cancel = new CancellationTokenSource();
        var stop = new SyncProgress<TrainingProgress>(p => { if (p.Epoch == stopInEpoch && p.Batch == 3) cancel.Cancel(); });
        var records = new List<EpochRecord>();
        Assert.ThrowsAny<OperationCanceledException>(() =>
        {
            foreach (var record in Trainer.Train(model, data, validation, options, stop, cancel.Token, checkpoint))
            {
                records.Add(record);
            }
        });
        return records;
    }

    [Fact]
    public void ARunStoppedPartWayAndResumedEndsWithTheWeightsOfARunNeverStopped()
    {
        using var folder = new TempFolder();
        var data = Separable();
        var validation = Separable(count: 20, noiseSeed: 9, split: "Test");

        using var uninterrupted = Model(seed: 7);
        var expected = Trainer.Train(uninterrupted, data, validation, Options).ToList();

        using var interrupted = Model(seed: 7);
        var checkpoint = TrainingCheckpoint.WriteTo(folder.File("run.ckpt"));
        var before = TrainUntilStopped(interrupted, data, validation, Options, checkpoint, stopInEpoch: 4);
        // Other work between the stop and the resume draws from the global generator; the checkpoint restores it.
        TorchSharp.torch.randn(100).Dispose();

        var resumed = TrainingCheckpoint.Resume(checkpoint.Path, data, validation);
        using var model = resumed.Model;
        Assert.Equal((3, 3, Options), (resumed.EpochsCompleted, model.EpochsTrained, resumed.Options));
        var after = Trainer.Train(model, data, validation, resumed.Options, checkpoint: resumed.Checkpoint).ToList();

        Assert.Equal(new[] { 4, 5, 6 }, after.Select(r => r.Epoch));
        Assert.Equal(expected.Select(r => (r.Epoch, r.Epochs, r.Loss, r.TrainAccuracy, r.ValidationAccuracy)),
            before.Concat(after).Select(r => (r.Epoch, r.Epochs, r.Loss, r.TrainAccuracy, r.ValidationAccuracy)));
        Assert.Equal(Weights(uninterrupted, folder), Weights(model, folder));
        // The history reads as one run of six epochs, as the uninterrupted model's does.
        Assert.Equal(new[] { 6 }, model.History.Runs.Select(r => r.Epochs.Count));
    }

    /// <summary>A validation set on which the loss rises from the first epoch, so early stopping ends the run early.</summary>
    private static MlpDataset Flipped() => WithLabels(Separable(count: 20, noiseSeed: 9, split: "Test"), Enumerable.Range(0, 20).Select(i => (byte)(1 - i % 2)).ToArray(), "flipped");

    /// <summary>Each option a checkpoint must carry: its recipe, its validation data, and the model's dropout.</summary>
    private static (TrainingOptions Options, MlpDataset? Validation, double Dropout) Recipe(string option) => option switch
    {
        "early stopping that stops" => (Options with { EarlyStopping = true, Patience = 2, MinDelta = 1e-4 }, Flipped(), 0),
        "early stopping to the last epoch" => (Options with { EarlyStopping = true, Patience = 10 }, Separable(count: 20, noiseSeed: 9, split: "Test"), 0),
        "step schedule" => (Options with { Schedule = LearningRateSchedule.Step, StepSize = 1, Gamma = 0.5 }, null, 0),
        "reduce on plateau" => (Options with { Schedule = LearningRateSchedule.ReduceOnPlateau, SchedulePatience = 1, Gamma = 0.5 }, Flipped(), 0),
        "validation fraction" => (Options with { ValidationFraction = 0.25, EarlyStopping = true, Patience = 3 }, null, 0),
        "dropout" => (Options, null, 0.3),
        "SGD with momentum" => (Options with { Optimizer = OptimizerKind.SGD, Momentum = 0.9, LearningRate = 0.05 }, null, 0),
        "AdamW with weight decay" => (Options with { Optimizer = OptimizerKind.AdamW, WeightDecay = 0.05 }, null, 0),
        _ => throw new ArgumentOutOfRangeException(nameof(option)),
    };

    private static MlpModel RecipeModel(double dropout) =>
        MlpModel.Create("m", new MlpArchitecture(PixelsPerImage, new[] { 8 }, 2, ActivationSpec.ReLU, Dropout: dropout), 7);

    private static (int, int, double, double?, double?, double?, double, int?, string?) Figures(EpochRecord r) =>
        (r.Epoch, r.Epochs, r.Loss, r.TrainAccuracy, r.ValidationLoss, r.ValidationAccuracy, r.LearningRate, r.BestEpoch, r.StopReason);

    [Theory]
    [InlineData("early stopping that stops")]
    [InlineData("early stopping to the last epoch")]
    [InlineData("step schedule")]
    [InlineData("reduce on plateau")]
    [InlineData("validation fraction")]
    [InlineData("dropout")]
    [InlineData("SGD with momentum")]
    [InlineData("AdamW with weight decay")]
    public void EveryOptionResumesToTheRecordsAndWeightsOfTheRunNeverStopped(string option)
    {
        using var folder = new TempFolder();
        var data = Separable();
        var (options, validation, dropout) = Recipe(option);

        using var uninterrupted = RecipeModel(dropout);
        var expected = Trainer.Train(uninterrupted, data, validation, options).ToList();

        using var interrupted = RecipeModel(dropout);
        var checkpoint = TrainingCheckpoint.WriteTo(folder.File("run.ckpt"));
        var before = TrainUntilStopped(interrupted, data, validation, options, checkpoint, stopInEpoch: 2);

        var resumed = TrainingCheckpoint.Resume(checkpoint.Path, data, validation);
        using var model = resumed.Model;
        var after = Trainer.Train(model, data, validation, resumed.Options, checkpoint: resumed.Checkpoint).ToList();

        Assert.Single(before);
        Assert.Equal(expected.Select(Figures), before.Concat(after).Select(Figures));
        Assert.Equal(Weights(uninterrupted, folder), Weights(model, folder));
        // Not a comparison that cannot fail: the option changed the run.
        using var plain = RecipeModel(0);
        Assert.NotEqual(expected.Select(Figures), Trainer.Train(plain, data, validation, Options with { ValidationFraction = options.ValidationFraction }).Select(Figures));
    }

    [Fact]
    public void ResumingARunThatEarlyStoppingEndedTrainsNoFurther()
    {
        using var folder = new TempFolder();
        var data = Separable();
        var (options, validation, _) = Recipe("early stopping that stops");
        using var model = Model(seed: 7);
        var checkpoint = TrainingCheckpoint.WriteTo(folder.File("run.ckpt"));
        var records = Trainer.Train(model, data, validation, options, checkpoint: checkpoint).ToList();
        Assert.True(records.Count < options.Epochs);
        Assert.StartsWith("Early stopping: ", records[^1].StopReason);

        var resumed = TrainingCheckpoint.Resume(checkpoint.Path, data, validation);
        using var again = resumed.Model;
        Assert.Empty(Trainer.Train(again, data, validation, resumed.Options, checkpoint: resumed.Checkpoint));
        Assert.Equal(records.Count, again.EpochsTrained);
        Assert.Equal(Weights(model, folder), Weights(again, folder));
    }

    [Fact]
    public void ACheckpointWrittenBeforeSessionsWereSavedStillResumesExactly()
    {
        using var folder = new TempFolder();
        var data = Separable();
        using var uninterrupted = Model(seed: 7);
        var expected = Trainer.Train(uninterrupted, data, null, Options).ToList();

        using var interrupted = Model(seed: 7);
        var checkpoint = TrainingCheckpoint.WriteTo(folder.File("run.ckpt"));
        var before = Trainer.Train(interrupted, data, null, Options, checkpoint: checkpoint).Take(2).ToList();
        // What a checkpoint of the earlier format holds: no session state and no weight snapshots.
        ModelFilesTests.EditManifest(checkpoint.Path, manifest =>
        {
            manifest["training"]!.AsObject().Remove("session");
            manifest["files"]!.AsObject().Remove(CheckpointState.SessionWeightsEntry);
        });

        var resumed = TrainingCheckpoint.Resume(checkpoint.Path, data, null);
        using var model = resumed.Model;
        var after = Trainer.Train(model, data, null, resumed.Options, checkpoint: resumed.Checkpoint).ToList();

        Assert.Equal(expected.Select(Figures), before.Concat(after).Select(Figures));
        Assert.Equal(Weights(uninterrupted, folder), Weights(model, folder));
    }

    [Fact]
    public void StartingAfreshFromTheSameSeedsWithoutTheCheckpointDoesNotReproduceTheRun()
    {
        // The control for the test above: restoring the optimiser and the generator is what makes the weights equal.
        using var folder = new TempFolder();
        var data = Separable();
        using var uninterrupted = Model(seed: 7);
        Trainer.Train(uninterrupted, data, null, Options).ToList();

        using var twoCalls = Model(seed: 7);
        Trainer.Train(twoCalls, data, null, Options with { Epochs = 3 }).ToList();
        Trainer.Train(twoCalls, data, null, Options with { Epochs = 3 }).ToList();

        Assert.NotEqual(Weights(uninterrupted, folder), Weights(twoCalls, folder));
    }

    [Fact]
    public void ResumingAFinishedRunTrainsNoFurther()
    {
        using var folder = new TempFolder();
        var data = Separable();
        using var model = Model();
        var checkpoint = TrainingCheckpoint.WriteTo(folder.File("run.ckpt"));
        Trainer.Train(model, data, null, Options with { Epochs = 2 }, checkpoint: checkpoint).ToList();

        var resumed = TrainingCheckpoint.Resume(checkpoint.Path, data, null);
        using var again = resumed.Model;

        Assert.Empty(Trainer.Train(again, data, null, resumed.Options, checkpoint: resumed.Checkpoint));
        Assert.Equal(2, again.EpochsTrained);
        Assert.Equal(Weights(model, folder), Weights(again, folder));
    }

    [Fact]
    public void ResumingWithOtherDataIsRefused()
    {
        using var folder = new TempFolder();
        var data = Separable();
        using var model = Model();
        var checkpoint = TrainingCheckpoint.WriteTo(folder.File("run.ckpt"));
        Trainer.Train(model, data, null, Options with { Epochs = 1 }, checkpoint: checkpoint).ToList();

        var error = Fails("CheckpointDatasetMismatch", () => TrainingCheckpoint.Resume(checkpoint.Path, Separable(noiseSeed: 1), null));
        Assert.Equal(FailureKind.InvalidArgument, error.Kind);
        Assert.Contains(DatasetFingerprint.Of(data).Sha256[..12], error.Message);
        Fails("CheckpointDatasetMismatch", () => TrainingCheckpoint.Resume(checkpoint.Path, data, Separable(count: 8, split: "Test")));
    }

    [Fact]
    public void OnlyACheckpointCanBeResumed()
    {
        using var folder = new TempFolder();
        var data = Separable();
        using var model = Model();
        ModelFiles.Export(model, folder.File("model.mlp"));
        ModelFiles.Export(model, folder.File("model.pt"));

        Fails("CheckpointNotFound", () => TrainingCheckpoint.Resume(folder.File("none.ckpt"), data, null));
        Fails("NotACheckpoint", () => TrainingCheckpoint.Resume(folder.File("model.mlp"), data, null));
        Fails("ModelFileUnrecognized", () => TrainingCheckpoint.Resume(folder.File("model.pt"), data, null));
    }

    [Fact]
    public void ACheckpointOfARecipeWithOptionsThisVersionDoesNotKnowIsRefused()
    {
        using var folder = new TempFolder();
        var data = Separable();
        using var model = Model();
        var checkpoint = TrainingCheckpoint.WriteTo(folder.File("run.ckpt"));
        Trainer.Train(model, data, null, Options with { Epochs = 1 }, checkpoint: checkpoint).ToList();
        ModelFilesTests.EditManifest(checkpoint.Path, manifest => manifest["training"]!["options"]!["warmupEpochs"] = 2);

        var error = Fails("ModelFileVersionUnsupported", () => TrainingCheckpoint.Resume(checkpoint.Path, data, null));
        Assert.Contains("warmupEpochs", error.Message);
    }
}
