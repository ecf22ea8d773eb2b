using MlpTools.Core.Data;
using MlpTools.Core.Modeling;
using MlpTools.Core.Persistence;
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

    [Fact]
    public void ARunStoppedPartWayAndResumedEndsWithTheWeightsOfARunNeverStopped()
    {
        using var folder = new TempFolder();
        var data = Separable();
        var validation = Separable(count: 20, noiseSeed: 9, split: "Test");

        using var uninterrupted = Model(seed: 7);
        var expected = Trainer.Train(uninterrupted, data, validation, Options).ToList();

        using var interrupted = Model(seed: 7);
        using var cancel = new CancellationTokenSource();
        var stopInEpoch4 = new SyncProgress<TrainingProgress>(p => { if (p.Epoch == 4 && p.Batch == 3) cancel.Cancel(); });
        var checkpoint = TrainingCheckpoint.WriteTo(folder.File("run.ckpt"));
        var before = new List<EpochRecord>();
        Assert.ThrowsAny<OperationCanceledException>(() =>
        {
            foreach (var record in Trainer.Train(interrupted, data, validation, Options, stopInEpoch4, cancel.Token, checkpoint))
            {
                before.Add(record);
            }
        });
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
