using MlpTools.Core.Modeling;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using MlpTools.Core.Data;
using MlpTools.Core.Persistence;
using MlpTools.Core.Training;
using Xunit;
using static MlpTools.Core.Tests.HostileFileHelpers;
using static MlpTools.Core.Tests.ModelFilesTests;
using static MlpTools.Core.Tests.TestData;
using static TorchSharp.torch;

namespace MlpTools.Core.Tests;

/// <summary>Checkpoints made to hurt (issue 11): what a resumed run reads is checked as the parameters of a new run are.</summary>
public class HostileCheckpointTests
{
    // --- 1. values read from a checkpoint are checked as parameters are ----------------------------------------------

    private static (TempFolder Folder, string Path) Checkpoint(int[]? hidden = null)
    {
        var folder = new TempFolder();
        using var model = Model(hidden: hidden);
        var checkpoint = TrainingCheckpoint.WriteTo(folder.File("run.ckpt"));
        // Cut off after the first of two epochs, so that a resumed run has one to go.
        Trainer.Train(model, Separable(), null, Options, checkpoint: checkpoint).Take(1).ToList();
        return (folder, checkpoint.Path);
    }

    private static void Resume(string path, MlpDataset? validation = null)
    {
        var data = Separable();
        var resumed = TrainingCheckpoint.Resume(path, data, validation);
        using var model = resumed.Model;
        Trainer.Train(model, data, validation, resumed.Options, checkpoint: resumed.Checkpoint).ToList();
    }

    [Theory]
    [InlineData("batchSize", "2147483647", "BatchSize")]
    [InlineData("batchSize", "0", "BatchSize")]
    [InlineData("learningRate", "\"NaN\"", "LearningRate")]
    [InlineData("learningRate", "1e300", "LearningRate")]
    [InlineData("weightDecay", "\"Infinity\"", "WeightDecay")]
    [InlineData("weightDecay", "5e8", "WeightDecay")]
    [InlineData("epochs", "2147483647", "Epochs")]
    [InlineData("momentum", "1", "Momentum")]
    [InlineData("optimizer", "99", "Optimizer")]
    public void ACheckpointRecipeInvokeMlpTrainingWouldRefuseIsRefused(string option, string json, string named)
    {
        var (folder, path) = Checkpoint();
        using var _ = folder;
        EditManifest(path, manifest => manifest["training"]!["options"]![option] = JsonNode.Parse(json));

        var error = Refused("ModelFileCorrupt", folder, () => Resume(path));
        Assert.Contains(named, error.Message);
    }

    [Theory]
    [InlineData("learningRate", "\"NaN\"", "learning rate")]
    [InlineData("learningRate", "0", "learning rate")]
    [InlineData("learningRate", "1", "learning rate")]
    [InlineData("earlyStopping", "{\"best\": 0.5, \"bestEpoch\": 1, \"epochsWithoutImprovement\": 0}", "early-stopping tracker")]
    [InlineData("plateau", "{\"best\": 0.5, \"bestEpoch\": 1, \"epochsWithoutImprovement\": 0}", "plateau tracker")]
    [InlineData("stopped", "true", "early stopping ended")]
    public void ASessionStateTheRunCouldNotReachIsRefused(string field, string json, string named)
    {
        var (folder, path) = Checkpoint();
        using var _ = folder;
        EditManifest(path, manifest => manifest["training"]!["session"]![field] = JsonNode.Parse(json));

        var error = Refused("ModelFileCorrupt", folder, () => Resume(path));
        Assert.Contains(named, error.Message);
    }

    [Theory]
    [InlineData("{\"best\": \"Infinity\", \"bestEpoch\": 1, \"epochsWithoutImprovement\": 0}")]
    [InlineData("{\"best\": 0.5, \"bestEpoch\": 99, \"epochsWithoutImprovement\": 0}")]
    [InlineData("{\"best\": 0.5, \"bestEpoch\": 1, \"epochsWithoutImprovement\": 2147483647}")]
    [InlineData("{\"best\": 0.5, \"bestEpoch\": -1, \"epochsWithoutImprovement\": 0}")]
    public void AnEarlyStoppingTrackerOutsideTheRunIsRefused(string json)
    {
        var (folder, path) = Checkpoint();
        using var _ = folder;
        EditManifest(path, manifest =>
        {
            manifest["training"]!["options"]!["earlyStopping"] = true;
            manifest["training"]!["session"]!["earlyStopping"] = JsonNode.Parse(json);
        });

        var error = Refused("ModelFileCorrupt", folder, () => Resume(path, Separable(count: 20, noiseSeed: 9, split: "Test")));
        Assert.Contains("early-stopping tracker", error.Message);
    }

    [Fact]
    public void ARecipeWithEarlyStoppingButNoSessionStateIsRefused()
    {
        var (folder, path) = Checkpoint();
        using var _ = folder;
        EditManifest(path, manifest =>
        {
            manifest["training"]!["options"]!["earlyStopping"] = true;
            manifest["training"]!.AsObject().Remove("session");
        });

        var error = Refused("ModelFileCorrupt", folder, () => Resume(path));
        Assert.Contains("no session state", error.Message);
    }

    [Fact]
    public void ACheckpointWithoutItsSessionWeightsIsRefused()
    {
        var (folder, path) = Checkpoint();
        using var _ = folder;
        EditManifest(path, manifest => manifest["files"]!.AsObject().Remove(CheckpointState.SessionWeightsEntry));

        var error = Refused("ModelFileCorrupt", folder, () => Resume(path));
        Assert.Contains(CheckpointState.SessionWeightsEntry, error.Message);
    }

    [Theory]
    [InlineData("a snapshot of another shape", "lastGood.lin_1.weight")]
    [InlineData("a best snapshot lacking a tensor", "best.lin_2.bias")]
    [InlineData("a key the model does not have", "lastGood.lin_9.weight")]
    public void SessionWeightsThatAreNotTheModelsParametersAreRefused(string name, string named)
    {
        var (folder, path) = Checkpoint();
        using var _ = folder;
        using var model = Model();
        var snapshots = model.Network.named_parameters().ToDictionary(p => "lastGood." + p.name, p => (Tensor)p.parameter.detach());
        switch (name)
        {
            case "a snapshot of another shape":
                snapshots["lastGood.lin_1.weight"] = zeros(3, 3);
                break;
            case "a best snapshot lacking a tensor":
                foreach (var (key, parameter) in model.Network.named_parameters().Where(p => p.name != "lin_2.bias"))
                {
                    snapshots["best." + key] = parameter.detach();
                }
                break;
            default:
                snapshots["lastGood.lin_9.weight"] = zeros(2, 2);
                break;
        }
        ReplaceEntry(path, CheckpointState.SessionWeightsEntry, SafeTensors(snapshots));

        var error = Refused("ModelFileCorrupt", folder, () => Resume(path));
        Assert.Contains(named, error.Message);
    }

    [Fact]
    public void SessionWeightsThatAreNotFiniteAreRefused()
    {
        var (folder, path) = Checkpoint();
        using var _ = folder;
        using var model = Model();
        var snapshots = model.Network.named_parameters().ToDictionary(p => "lastGood." + p.name, p => (Tensor)p.parameter.detach());
        snapshots["lastGood.lin_2.weight"] = full(snapshots["lastGood.lin_2.weight"].shape, float.NaN);
        ReplaceEntry(path, CheckpointState.SessionWeightsEntry, SafeTensors(snapshots));

        var error = Refused("ModelWeightsNotFinite", folder, () => Resume(path));
        Assert.Contains("lastGood.lin_2.weight", error.Message);
    }

    [Theory]
    [InlineData("a state too short", ScalarType.Byte, 10)]
    [InlineData("a state of floats", ScalarType.Float32, 0)]
    [InlineData("no state at all", ScalarType.Byte, -1)]
    public void AGeneratorStateOfTheWrongSizeOrTypeIsRefusedBeforeItReachesLibtorch(string name, ScalarType type, int size)
    {
        var (folder, path) = Checkpoint();
        using var _ = folder;
        using var reference = new Generator(1).get_state();
        var states = new Dictionary<string, Tensor> { ["shuffle"] = reference };
        if (size >= 0)
        {
            states["dropout"] = size == 0 ? zeros(reference.shape, type) : zeros(size, type);
        }
        ReplaceEntry(path, CheckpointState.RandomStateEntry, SafeTensors(states));

        var error = Refused("ModelFileCorrupt", folder, () => Resume(path));
        Assert.Contains("dropout", error.Message);
        Assert.False(string.IsNullOrEmpty(name));
    }

    [Fact]
    public void AnOptimiserStateOfAnotherModelIsRefused()
    {
        var (other, otherPath) = Checkpoint(hidden: new[] { 9 });
        using var __ = other;
        byte[] foreign = Entry(otherPath, CheckpointState.OptimizerEntry);
        var (folder, path) = Checkpoint();
        using var _ = folder;
        ReplaceEntry(path, CheckpointState.OptimizerEntry, foreign);

        var error = Refused("ModelFileCorrupt", folder, () => Resume(path));
        Assert.Contains("optimiser state", error.Message);
    }

    [Theory]
    [InlineData(OptimizerKind.Adam, 0.0)]
    [InlineData(OptimizerKind.AdamW, 0.0)]
    [InlineData(OptimizerKind.SGD, 0.0)]
    [InlineData(OptimizerKind.SGD, 0.9)]
    public void TheOptimiserLayoutCheckAcceptsWhatEveryOptimiserWrites(OptimizerKind optimizer, double momentum)
    {
        using var folder = new TempFolder();
        var data = Separable();
        using var model = Model();
        var checkpoint = TrainingCheckpoint.WriteTo(folder.File("run.ckpt"));
        Trainer.Train(model, data, null, Options with { Optimizer = optimizer, Momentum = momentum, WeightDecay = 1e-3 }, checkpoint: checkpoint).Take(1).ToList();

        Resume(checkpoint.Path);

        using var done = ModelFiles.Import(checkpoint.Path);
        Assert.Equal(2, done.EpochsTrained);
    }

    [Fact]
    public void CheckpointsNoLongerCarryTorchsGlobalGeneratorButOldOnesThatDoStillResume()
    {
        var (folder, path) = Checkpoint();
        using var _ = folder;
        using (var random = new MemoryStream(Entry(path, CheckpointState.RandomStateEntry)))
        using (NewDisposeScope())
        {
            var states = StateDicts.ReadSafeTensors(random, path);
            Assert.Equal(new[] { "dropout", "shuffle" }, states.Keys.Order());
            // An old checkpoint: the same states with torch's global generator's state added.
            states["default"] = get_rng_state();
            ReplaceEntry(path, CheckpointState.RandomStateEntry, SafeTensors(states));
        }

        Resume(path);
        using var done = ModelFiles.Import(path);
        Assert.Equal(2, done.EpochsTrained);
    }

    /// <summary>Replaces a checkpoint's entry and records its new SHA-256 in the manifest, as a careful forger would.</summary>
    private static void ReplaceEntry(string path, string name, byte[] content)
    {
        File.WriteAllBytes(path, Rezip(path, replace: (name, content)));
        EditManifest(path, manifest => manifest["files"]![name] = Convert.ToHexString(SHA256.HashData(content)).ToLowerInvariant());
    }
}
