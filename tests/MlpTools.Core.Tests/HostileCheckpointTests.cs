using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using MlpTools.Core.Data;
using MlpTools.Core.Modeling;
using MlpTools.Core.Persistence;
using MlpTools.Core.Training;
using Xunit;
using static MlpTools.Core.Tests.ModelFilesTests;
using static MlpTools.Core.Tests.TestData;
using static TorchSharp.torch;

namespace MlpTools.Core.Tests;

/// <summary>
/// Files made to hurt (issue 11): each is refused with its error id before it can crash the process, slip past a check
/// or take unbounded memory, and the same session then still reads a good file. Every file is crafted here: pickles byte
/// by byte, zips in memory, manifests and checkpoints edited.
/// </summary>
public class HostileFilesTests
{
    private static readonly TrainingOptions Options = new() { Epochs = 2, BatchSize = 10, LearningRate = 0.01, Seed = 3 };

    /// <summary>Refused with <paramref name="errorId"/>, nothing in the folder changed, and a good file still imports afterwards.</summary>
    private static MlpToolsException Refused(string errorId, TempFolder folder, Action action)
    {
        var before = Snapshot(folder);
        var error = Fails(errorId, action);
        Assert.Equal(before, Snapshot(folder));
        using var model = Model();
        string good = folder.File($"good-{Guid.NewGuid():N}.mlp");
        ModelFiles.Export(model, good);
        using var back = ModelFiles.Import(good);
        Assert.Equal(model.Layers, back.Layers);
        File.Delete(good);
        return error;
    }

    private static string[] Snapshot(TempFolder folder) =>
        Directory.GetFiles(folder.Path).Order().Select(f => $"{Path.GetFileName(f)}:{Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f)))}").ToArray();

    /// <summary>Managed bytes allocated by <paramref name="action"/> on this thread (which is where the reader inflates entries).</summary>
    private static long Allocated(Action action)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        action();
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

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

    // --- 2. what is vetted is what is loaded; ambiguous archives are refused -----------------------------------------

    [Fact]
    public void APickleEntryPlacedBeforeDataPklIsRefusedNotLoaded()
    {
        using var folder = new TempFolder();
        using var model = Model();
        string good = folder.File("good.pt");
        ModelFiles.Export(model, good);
        byte[] hostile = Encoding.Latin1.GetBytes("\u0080\u0002cposix\nsystem\nX\u0002\u0000\u0000\u0000idq\u0001\u0085R.");
        // PyBridge's loader took the first entry whose name ends in data.pkl; the guard vetted the one named data.pkl.
        string path = folder.Write("shadowed.pt", Rezip(good, first: ("model/evil_data.pkl", hostile)));

        var error = Refused("ModelFileUnsafe", folder, () => ModelFiles.Import(path, activation: Activation.ReLU));
        Assert.Contains("evil_data.pkl", error.Message);
    }

    [Fact]
    public void DuplicateEntryNamesAreRefusedInPyTorchAndMlpToolsFiles()
    {
        using var folder = new TempFolder();
        using var model = Model();
        using var other = Model(seed: 2);
        ModelFiles.Export(model, folder.File("a.pt"));
        ModelFiles.Export(model, folder.File("a.mlp"));
        ModelFiles.Export(other, folder.File("b.mlp"));
        string pt = folder.Write("twice.pt", Rezip(folder.File("a.pt"), first: ("model/data.pkl", Entry(folder.File("a.pt"), "model/data.pkl"))));
        // .NET reads the first weights entry, unzip and Python the last: two models in one file.
        string mlp = folder.Write("twice.mlp", Rezip(folder.File("a.mlp"), last: (ModelManifest.WeightsEntry, Entry(folder.File("b.mlp"), ModelManifest.WeightsEntry))));

        Assert.Contains("two zip entries named 'model/data.pkl'", Refused("ModelFileUnsafe", folder, () => ModelFiles.Import(pt, activation: Activation.ReLU)).Message);
        Assert.Contains($"two zip entries named '{ModelManifest.WeightsEntry}'", Refused("ModelFileUnsafe", folder, () => ModelFiles.Import(mlp)).Message);
    }

    // --- 5. memory bombs: sizes are checked against the architecture before anything is inflated ---------------------

    [Fact]
    public void ADeflatedWeightsEntryLargerThanTheArchitectureNeedsIsRefusedBeforeItIsInflated()
    {
        using var folder = new TempFolder();
        using var model = Model();
        ModelFiles.Export(model, folder.File("m.mlp"));
        string path = folder.Write("bomb.mlp", Rezip(folder.File("m.mlp"), replace: (ModelManifest.WeightsEntry, new byte[64 << 20])));
        Assert.True(new FileInfo(path).Length < 1 << 20, "64 MiB of zeros deflate to under 1 MiB");

        long allocated = Allocated(() => Refused("ModelFileCorrupt", folder, () => ModelFiles.Import(path)));
        Assert.True(allocated < 16 << 20, $"{allocated} bytes allocated");
    }

    [Fact]
    public void ATorchStorageLargerThanItsTensorsIsRefusedBeforeItIsInflated()
    {
        using var folder = new TempFolder();
        // 16 Mi values claimed for a 16-8-2 network's 154 weights; the data entry is 64 MiB of deflated zeros.
        byte[] pickle = StateDictPickle(16 << 20, NotebookLayout(0, transposed: false));
        string path = folder.Write("bomb.pt", TorchFile(pickle, new byte[64 << 20]));

        long allocated = Allocated(() => Assert.Contains("more than the", Refused("ModelFileCorrupt", folder, () => ModelFiles.Import(path, activation: Activation.ReLU)).Message));
        Assert.True(allocated < 16 << 20, $"{allocated} bytes allocated");
        // And a data entry longer than its storage is refused before it is read, too.
        string longer = folder.Write("longer.pt", TorchFile(StateDictPickle(154, NotebookLayout(0, transposed: false)), new byte[64 << 20]));
        Assert.Contains("claims", Refused("ModelFileCorrupt", folder, () => ModelFiles.Import(longer, activation: Activation.ReLU)).Message);
    }

    [Fact]
    public void AManifestOfAMillionLayersIsRefusedBeforeAnyLayerIsBuilt()
    {
        using var folder = new TempFolder();
        using var model = Model();
        string path = folder.File("deep.mlp");
        ModelFiles.Export(model, path);
        EditManifest(path, manifest => manifest["architecture"]!["hiddenSizes"] = new JsonArray(Enumerable.Repeat(1, 1_000_000).Select(n => (JsonNode)n).ToArray()));

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var error = Refused("ModelTooLarge", folder, () => ModelFiles.Import(path));
        Assert.Contains($"{MlpArchitecture.MaxHiddenLayers}", error.Message);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"{clock.Elapsed}");
        // The same cap holds for a network made in code.
        Fails("ModelTooLarge", () => MlpModel.Create("deep", new MlpArchitecture(4, Enumerable.Repeat(1, MlpArchitecture.MaxHiddenLayers + 1).ToArray(), 2, ActivationSpec.ReLU), 1));
    }

    // --- 6. valid but unusual torch.save files -----------------------------------------------------------------------

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void TensorsSharingOneStorageAndTransposedTensorsLoadWithTheirValues(bool transposed)
    {
        using var folder = new TempFolder();
        // One storage of 154 values for all four tensors, as after torch.nn.utils.vector_to_parameters, the weights
        // optionally saved as .t() views (strides [1, rows]).
        float[] values = Enumerable.Range(0, 154).Select(i => (i - 77) / 64f).ToArray();
        var layout = NotebookLayout(0, transposed);
        string path = folder.Write("shared.pt", TorchFile(StateDictPickle(values.Length, layout), values.SelectMany(BitConverter.GetBytes).ToArray()));

        using var model = ModelFiles.Import(path, activation: Activation.ReLU);

        Assert.Equal("16-8-2", model.Layers);
        foreach (var (key, offset, shape, stride) in layout)
        {
            float[] actual = model.Network.state_dict()[key].data<float>().ToArray();
            var expected = new List<float>();
            for (long r = 0; r < shape[0]; r++)
            {
                for (long c = 0; c < (shape.Length > 1 ? shape[1] : 1); c++)
                {
                    expected.Add(values[offset + r * stride[0] + (shape.Length > 1 ? c * stride[1] : 0)]);
                }
            }
            Assert.Equal(expected, actual);
        }
    }

    [Fact]
    public void AViewReachingBeyondItsStorageIsRefused()
    {
        using var folder = new TempFolder();
        var layout = NotebookLayout(0, transposed: false);
        layout[3] = ("lin_2.bias", 153, new long[] { 2 }, new long[] { 1 });
        string path = folder.Write("beyond.pt", TorchFile(StateDictPickle(154, layout), new byte[154 * 4]));

        Assert.Contains("beyond its storage", Refused("ModelFileCorrupt", folder, () => ModelFiles.Import(path, activation: Activation.ReLU)).Message);
    }

    // --- 7. every manifest field is checked as New-Mlp checks it; non-finite weights are refused in every format -------

    [Theory]
    [InlineData("architecture", "activation", "99")]
    [InlineData("architecture", "alpha", "\"NaN\"")]
    [InlineData("architecture", "negativeSlope", "-1")]
    [InlineData("architecture", "dropout", "1.5")]
    [InlineData("architecture", "initialization", "7")]
    [InlineData("architecture", "name", "null")]
    [InlineData("architecture", "hiddenSizes", "null")]
    [InlineData("", "history", "[null]")]
    [InlineData("", "files", "null")]
    public void AManifestValueNewMlpWouldRefuseIsCorrupt(string parent, string field, string json)
    {
        using var folder = new TempFolder();
        using var model = Model();
        string path = folder.File("m.mlp");
        ModelFiles.Export(model, path);
        EditManifest(path, manifest => (parent == "" ? manifest : manifest[parent]!)[field] = JsonNode.Parse(json));

        Refused("ModelFileCorrupt", folder, () => ModelFiles.Import(path));
    }

    [Fact]
    public void AHistoryRunWithARecipeTheTrainerRefusesIsCorrupt()
    {
        using var folder = new TempFolder();
        using var model = Model();
        Trainer.Train(model, Separable(), null, Options with { Epochs = 1 }).ToList();
        string path = folder.File("m.mlp");
        ModelFiles.Export(model, path);
        EditManifest(path, manifest => manifest["history"]![0]!["options"]!["batchSize"] = -1);

        Assert.Contains("BatchSize", Refused("ModelFileCorrupt", folder, () => ModelFiles.Import(path)).Message);
    }

    [Theory]
    [InlineData("m.mlp", float.NaN)]
    [InlineData("m.pt", float.PositiveInfinity)]
    [InlineData("m.safetensors", float.NaN)]
    public void NonFiniteWeightsAreRefusedInEveryFormat(string fileName, float value)
    {
        using var folder = new TempFolder();
        using var model = Model();
        using (no_grad())
        {
            model.Network.state_dict()["lin_2.weight"][1, 3] = value;
        }
        ModelFiles.Export(model, folder.File(fileName));

        var error = Refused("ModelWeightsNotFinite", folder, () => ModelFiles.Import(folder.File(fileName), activation: Activation.ReLU));
        Assert.Contains("lin_2.weight", error.Message);
    }

    // --- 9. checksums --------------------------------------------------------------------------------------------------

    [Fact]
    public void AFlippedByteInTorchTensorDataIsCaughtByTheZipCrc()
    {
        using var folder = new TempFolder();
        using var model = Model();
        string path = folder.File("m.pt");
        ModelFiles.Export(model, path);
        byte[] bytes = File.ReadAllBytes(path);
        // model/data/0 is lin_1.weight, stored uncompressed; flip a byte well inside it.
        bytes[bytes.AsSpan().IndexOf("model/data/0"u8) + "model/data/0"u8.Length + 200] ^= 0x10;
        File.WriteAllBytes(path, bytes);

        Assert.Contains("CRC-32", Refused("ModelFileCorrupt", folder, () => ModelFiles.Import(path, activation: Activation.ReLU)).Message);
    }

    [Fact]
    public void AWeightsEntryRewrittenWithAValidCrcIsStillCaughtByTheManifestsSha256()
    {
        using var folder = new TempFolder();
        using var model = Model();
        using var other = Model(seed: 9);
        ModelFiles.Export(model, folder.File("a.mlp"));
        ModelFiles.Export(other, folder.File("b.mlp"));
        string path = folder.Write("swapped.mlp", Rezip(folder.File("a.mlp"), replace: (ModelManifest.WeightsEntry, Entry(folder.File("b.mlp"), ModelManifest.WeightsEntry))));

        Assert.Contains("SHA-256", Refused("ModelFileCorrupt", folder, () => ModelFiles.Import(path)).Message);
    }

    // --- 11. SafeTensors files say their architecture ------------------------------------------------------------------

    [Fact]
    public void ASafeTensorsFileRecordsItsActivationAndTheCallerCanStillOverrideIt()
    {
        using var folder = new TempFolder();
        var data = Separable();
        using var model = MlpModel.Create("elu", new MlpArchitecture(PixelsPerImage, new[] { 8 }, 2, new ActivationSpec(Activation.ELU, Alpha: 0.5), Dropout: 0.25), 4);
        string path = folder.File("elu.safetensors");
        ModelFiles.Export(model, path);

        using var imported = ModelFiles.Import(path);
        using var overridden = ModelFiles.Import(path, activation: Activation.Tanh);

        Assert.Equal((Activation.ELU, 0.5, 0.25), (imported.Activation, imported.Architecture.Activation.Alpha, imported.Dropout));
        Assert.Equal(Evaluator.Predict(model, data, Enumerable.Range(0, data.Count).ToArray()).Select(p => p.Confidence),
            Evaluator.Predict(imported, data, Enumerable.Range(0, data.Count).ToArray()).Select(p => p.Confidence));
        Assert.Equal(Activation.Tanh, overridden.Activation);
        // A SafeTensors file from elsewhere says nothing: the activation must be given.
        using (NewDisposeScope())
        {
            string bare = folder.Write("bare.safetensors", SafeTensors(model.Network.state_dict()));
            Fails("ModelActivationRequired", () => ModelFiles.Import(bare));
        }
    }

    // --- helpers --------------------------------------------------------------------------------------------------------

    private static byte[] SafeTensors(Dictionary<string, Tensor> tensors)
    {
        using var buffer = new MemoryStream();
        StateDicts.WriteSafeTensors(tensors, buffer);
        return buffer.ToArray();
    }

    private static byte[] Entry(string path, string name)
    {
        using var zip = ZipFile.OpenRead(path);
        using var stream = zip.GetEntry(name)!.Open();
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    /// <summary>Replaces a checkpoint's entry and records its new SHA-256 in the manifest, as a careful forger would.</summary>
    private static void ReplaceEntry(string path, string name, byte[] content)
    {
        File.WriteAllBytes(path, Rezip(path, replace: (name, content)));
        EditManifest(path, manifest => manifest["files"]![name] = Convert.ToHexString(SHA256.HashData(content)).ToLowerInvariant());
    }

    /// <summary>The zip's entries in order, with one replaced (deflated) and one added first or last.</summary>
    private static byte[] Rezip(string path, (string Name, byte[] Content)? first = null, (string Name, byte[] Content)? last = null,
        (string Name, byte[] Content)? replace = null)
    {
        var entries = new List<(string, byte[])>();
        if (first is { } f)
        {
            entries.Add(f);
        }
        using (var zip = ZipFile.OpenRead(path))
        {
            foreach (var entry in zip.Entries)
            {
                entries.Add((entry.FullName, entry.FullName == replace?.Name ? replace.Value.Content : Entry(path, entry.FullName)));
            }
        }
        if (last is { } l)
        {
            entries.Add(l);
        }
        return Zip(entries.ToArray());
    }

    private static byte[] TorchFile(byte[] pickle, byte[] storage) =>
        Zip(("archive/data.pkl", pickle), ("archive/data/0", storage), ("archive/version", "3\n"u8.ToArray()));

    /// <summary>A 16-8-2 network's four tensors as views of one storage, the weights optionally transposed views.</summary>
    private static (string Key, int Offset, long[] Shape, long[] Stride)[] NotebookLayout(int start, bool transposed) => new[]
    {
        ("lin_1.weight", start, new long[] { 8, 16 }, transposed ? new long[] { 1, 8 } : new long[] { 16, 1 }),
        ("lin_1.bias", start + 128, new long[] { 8 }, new long[] { 1 }),
        ("lin_2.weight", start + 136, new long[] { 2, 8 }, transposed ? new long[] { 1, 2 } : new long[] { 8, 1 }),
        ("lin_2.bias", start + 152, new long[] { 2 }, new long[] { 1 }),
    };

    /// <summary>A state_dict pickle written opcode by opcode, as torch.save writes one: every tensor a view of storage '0'.</summary>
    private static byte[] StateDictPickle(long storageValues, params (string Key, int Offset, long[] Shape, long[] Stride)[] tensors)
    {
        var pickle = new List<byte> { 0x80, 2, (byte)'}', (byte)'(' };
        void Text(string text)
        {
            byte[] bytes = Encoding.UTF8.GetBytes(text);
            pickle.Add((byte)'X');
            pickle.AddRange(BitConverter.GetBytes(bytes.Length));
            pickle.AddRange(bytes);
        }
        void Integer(long value)
        {
            pickle.Add((byte)'J');
            pickle.AddRange(BitConverter.GetBytes((int)value));
        }
        void Global(string module, string name) => pickle.AddRange(Encoding.ASCII.GetBytes($"c{module}\n{name}\n"));
        void Tuple(IEnumerable<long> items)
        {
            pickle.Add((byte)'(');
            foreach (long item in items)
            {
                Integer(item);
            }
            pickle.Add((byte)'t');
        }
        foreach (var (key, offset, shape, stride) in tensors)
        {
            Text(key);
            Global("torch._utils", "_rebuild_tensor_v2");
            pickle.Add((byte)'(');
            pickle.Add((byte)'(');
            Text("storage");
            Global("torch", "FloatStorage");
            Text("0");
            Text("cpu");
            Integer(storageValues);
            pickle.AddRange("tQ"u8.ToArray());
            Integer(offset);
            Tuple(shape);
            Tuple(stride);
            pickle.Add(0x89); // requires_grad False
            Global("collections", "OrderedDict");
            pickle.AddRange(")RtR"u8.ToArray());
        }
        pickle.AddRange("u."u8.ToArray());
        return pickle.ToArray();
    }
}
