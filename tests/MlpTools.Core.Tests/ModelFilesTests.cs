using System.IO.Compression;
using System.Text;
using System.Text.Json.Nodes;
using MlpTools.Core.Data;
using MlpTools.Core.Modeling;
using MlpTools.Core.Persistence;
using MlpTools.Core.Platform;
using MlpTools.Core.Training;
using Xunit;
using static MlpTools.Core.Tests.TestData;

namespace MlpTools.Core.Tests;

public class ModelFilesTests
{
    private static readonly TrainingOptions Options = new() { Epochs = 3, BatchSize = 10, LearningRate = 0.01, Seed = 3 };

    /// <summary>Every prediction with its confidence to the last bit, for "predicts exactly the same" checks.</summary>
    private static string[] Answers(MlpModel model, MlpDataset data) =>
        Evaluator.Predict(model, data, Enumerable.Range(0, data.Count).ToArray()).Select(p => $"{p.Predicted}:{p.Confidence:R}").ToArray();

    private static MlpModel Trained(MlpDataset data, int[]? hidden = null, string name = "trained")
    {
        var model = Model(seed: 5, hidden: hidden ?? new[] { 8, 4 }, name: name);
        Trainer.Train(model, data, Separable(count: 20, noiseSeed: 9, split: "Test"), Options).ToList();
        return model;
    }

    [Theory]
    [InlineData(ModelFileFormat.MlpTools, "model.mlp")]
    [InlineData(ModelFileFormat.PyTorch, "model.pt")]
    [InlineData(ModelFileFormat.SafeTensors, "model.safetensors")]
    public void AnImportedModelPredictsExactlyWhatTheExportedOneDid(ModelFileFormat format, string fileName)
    {
        using var folder = new TempFolder();
        var data = Separable(count: 64, noiseSeed: 2);
        using var model = Trained(data);

        ModelFiles.Export(model, folder.File(fileName), format);
        // A torch.save file does not say its activation; MlpTools' own files and its SafeTensors files do.
        using var imported = ModelFiles.Import(folder.File(fileName), activation: format == ModelFileFormat.PyTorch ? Activation.ReLU : null);

        Assert.Equal("16-8-4-2", imported.Layers);
        Assert.Equal(Answers(model, data), Answers(imported, data));
        Assert.Equal(format, imported.History.Origin!.Format);
        Assert.Equal(folder.File(fileName), imported.History.Origin.Path);
    }

    [Fact]
    public void TheMlpToolsFileKeepsTheArchitectureHistoryAndMetadata()
    {
        using var folder = new TempFolder();
        var data = Separable(count: 64, noiseSeed: 2);
        using var model = Trained(data, name: "digits");

        ModelFiles.Export(model, folder.File("m.mlp"));
        using var imported = ModelFiles.Import(folder.File("m.mlp"));

        Assert.Equal(("digits", 16, 2, Activation.ReLU, 5L, 3), (imported.Name, imported.InputSize, imported.OutputSize, imported.Activation, imported.Seed, imported.EpochsTrained));
        Assert.Equal(new[] { 8, 4 }, imported.HiddenSizes);
        var run = Assert.Single(imported.History.Runs);
        Assert.Equal(Options, run.Options);
        Assert.Equal(DatasetFingerprint.Of(data), run.TrainData);
        Assert.Equal(20, run.ValidationData!.Count);
        Assert.Equal(model.History.Epochs, imported.History.Epochs); // loss, accuracies and timings, every double exact
        Assert.Equal(1, imported.History.Origin!.FormatVersion);
        Assert.Equal(ProducerInfo.MlpToolsVersion, imported.History.Origin.MlpToolsVersion);
        Assert.Equal("0.107.0", imported.History.Origin.TorchSharpVersion);

        JsonNode manifest = ReadManifest(folder.File("m.mlp"));
        Assert.Equal("MlpTools.Model", (string?)manifest["format"]);
        Assert.Equal("2.10.0.0", (string?)manifest["producer"]!["libTorch"]);
        Assert.Equal(model.History.LastEpoch!.Loss, (double)manifest["finalMetrics"]!["loss"]!);
        Assert.Equal(model.History.LastEpoch!.ValidationAccuracy, (double)manifest["finalMetrics"]!["validationAccuracy"]!);
        Assert.Equal(64, (int)manifest["history"]![0]!["trainData"]!["count"]!);
    }

    [Fact]
    public void TheFingerprintIsTheSha256OfSizesPixelsAndLabels()
    {
        var data = InMemory(1, 2, new byte[] { 7, 9 }, new byte[] { 1 });
        // 01000000 01000000 02000000 0709 01: count 1, height 1, width 2 (little-endian int32), pixels, label.
        string expected = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(
            new byte[] { 1, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 7, 9, 1 })).ToLowerInvariant();

        Assert.Equal(expected, DatasetFingerprint.Of(data).Sha256);
        Assert.NotEqual(expected, DatasetFingerprint.Of(InMemory(1, 2, new byte[] { 7, 9 }, new byte[] { 0 })).Sha256);
    }

    [Fact]
    public void EachTrainingCallIsARunAndAResumedRunStaysOne()
    {
        var data = Separable();
        using var model = Model();

        Trainer.Train(model, data, null, Options with { Epochs = 2 }).ToList();
        Trainer.Train(model, data, null, Options with { Epochs = 1 }).ToList();
        Trainer.Train(model, Separable(noiseSeed: 4), null, Options with { Epochs = 1 }).ToList();

        Assert.Equal(new[] { 2, 1, 1 }, model.History.Runs.Select(r => r.Epochs.Count));
        Assert.Equal(new[] { 1, 2, 3, 4 }, model.History.Epochs.Select(e => e.Epoch));
        Assert.NotEqual(model.History.Runs[0].TrainData.Sha256, model.History.Runs[2].TrainData.Sha256);
    }

    [Fact]
    public void ExportRefusesToReplaceAFileUnlessAllowed()
    {
        using var folder = new TempFolder();
        string path = folder.Write("m.mlp", Encoding.ASCII.GetBytes("keep me"));
        using var model = Model();

        var error = Fails("ModelFileExists", () => ModelFiles.Export(model, path));
        Assert.Equal(FailureKind.ResourceExists, error.Kind);
        Assert.Equal("keep me", File.ReadAllText(path));

        ModelFiles.Export(model, path, overwrite: true);
        Assert.Equal(16 * 8 + 8 + 8 * 2 + 2, ModelFiles.Import(path).ParameterCount);
    }

    [Fact]
    public void AWriteThatFailsHalfwayLeavesThePreviousFileIntactAndNoTemporaryFile()
    {
        using var folder = new TempFolder();
        string path = folder.Write("m.mlp", Encoding.ASCII.GetBytes("previous"));

        var error = Fails("FileWriteFailed", () => AtomicFile.Write(path, stream =>
        {
            stream.Write(new byte[4096]);
            throw new IOException("No space left on device");
        }));

        Assert.Equal(FailureKind.WriteError, error.Kind);
        Assert.Contains("No space left on device", error.Message);
        Assert.Equal("previous", File.ReadAllText(path));
        Assert.Equal(new[] { "m.mlp" }, Directory.GetFiles(folder.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void ExportIntoAMissingFolderSaysSo()
    {
        using var folder = new TempFolder();
        using var model = Model();
        Fails("FolderNotFound", () => ModelFiles.Export(model, folder.File("no/such/m.mlp")));
    }

    [Fact]
    public void MissingEmptyForeignAndLegacyFilesAreRefusedWithTheirIds()
    {
        using var folder = new TempFolder();

        Assert.Equal(FailureKind.ObjectNotFound, Fails("ModelFileNotFound", () => ModelFiles.Import(folder.File("none.mlp"))).Kind);
        Fails("ModelFileEmpty", () => ModelFiles.Import(folder.Write("empty.mlp", Array.Empty<byte>())));
        Fails("ModelFileUnrecognized", () => ModelFiles.Import(folder.Write("text.mlp", Encoding.ASCII.GetBytes("hello, this is not a model"))));
        Fails("ModelFileUnrecognized", () => ModelFiles.Import(folder.Write("png.mlp", new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 13, 10, 26, 10, 0, 0 })));
        Fails("ModelFileUnrecognized", () => ModelFiles.Import(folder.Write("other.zip", Zip(("readme.txt", "hi"u8.ToArray())))));
        var legacy = Fails("ModelFileUnrecognized", () => ModelFiles.Import(folder.Write("old.pt", new byte[] { 0x80, 0x02, (byte)'}', (byte)'.' })));
        Assert.Contains("before PyTorch 1.6", legacy.Message);
        Fails("PathIsFolder", () => ModelFiles.Import(folder.Path));
    }

    [Theory]
    [InlineData(ModelFileFormat.MlpTools)]
    [InlineData(ModelFileFormat.PyTorch)]
    [InlineData(ModelFileFormat.SafeTensors)]
    public void TruncatedFilesAreCorruptWhereverTheyAreCut(ModelFileFormat format)
    {
        using var folder = new TempFolder();
        using var model = Model(hidden: new[] { 8 });
        string path = folder.File("whole");
        ModelFiles.Export(model, path, format);
        byte[] whole = File.ReadAllBytes(path);

        foreach (int length in new[] { whole.Length - 1, whole.Length / 2, whole.Length / 3, 12 })
        {
            string cut = folder.Write($"cut{length}", whole[..length]);
            var error = Assert.Throws<MlpToolsException>(() => ModelFiles.Import(cut, format));
            Assert.True(error.ErrorId is "ModelFileCorrupt" or "ModelFileUnrecognized", $"{format} cut to {length} bytes: {error.ErrorId}: {error.Message}");
            Assert.Equal(FailureKind.InvalidData, error.Kind);
        }
    }

    [Fact]
    public void AFlippedByteInTheWeightsIsCaughtByTheChecksum()
    {
        using var folder = new TempFolder();
        using var model = Model();
        string path = folder.File("m.mlp");
        ModelFiles.Export(model, path);

        byte[] bytes = File.ReadAllBytes(path);
        // The weights are stored uncompressed; flip a byte in the middle of their tensor data.
        int at = IndexOf(bytes, "lin_2.weight"u8.ToArray()) + 400;
        bytes[at] ^= 0x40;
        File.WriteAllBytes(path, bytes);

        var error = Fails("ModelFileCorrupt", () => ModelFiles.Import(path));
        Assert.Contains("weights.safetensors", error.Message);
    }

    [Fact]
    public void AFileFromANewerFormatVersionSaysSo()
    {
        using var folder = new TempFolder();
        using var model = Model();
        string path = folder.File("m.mlp");
        ModelFiles.Export(model, path);
        EditManifest(path, manifest =>
        {
            manifest["formatVersion"] = 2;
            manifest["producer"]!["mlpTools"] = "9.0.0";
            manifest["architecture"] = "a shape this version cannot read";
        });

        var error = Fails("ModelFileVersionUnsupported", () => ModelFiles.Import(path));
        Assert.Contains("format version 2, written by MlpTools 9.0.0", error.Message);
        Assert.Contains("reads MlpTools model format version 1", error.Message);
    }

    [Fact]
    public void AnArchitectureFieldThisVersionDoesNotKnowIsRefusedButOtherNewFieldsAreIgnored()
    {
        using var folder = new TempFolder();
        using var model = Model();
        string path = folder.File("m.mlp");
        ModelFiles.Export(model, path);

        EditManifest(path, manifest => manifest["notes"] = "a field a later version added outside the architecture");
        Assert.Equal("16-8-2", ModelFiles.Import(path).Layers);

        EditManifest(path, manifest => manifest["architecture"]!["layerNorm"] = true);
        var error = Fails("ModelFileVersionUnsupported", () => ModelFiles.Import(path));
        Assert.Contains("'layerNorm'", error.Message);
    }

    [Fact]
    public void AManifestWithTheWrongShapeIsCorrupt()
    {
        using var folder = new TempFolder();
        using var model = Model();
        string path = folder.File("m.mlp");
        ModelFiles.Export(model, path);

        EditManifest(path, manifest => manifest["architecture"]!["hiddenSizes"] = new JsonArray(9));
        Assert.Contains("lin_1.weight", Fails("ModelFileCorrupt", () => ModelFiles.Import(path)).Message);

        EditManifest(path, manifest => manifest["architecture"]!["inputSize"] = "sixteen");
        Fails("ModelFileCorrupt", () => ModelFiles.Import(path));
    }

    [Fact]
    public void AnExplicitFormatThatDoesNotMatchTheContentIsRefused()
    {
        using var folder = new TempFolder();
        using var model = Model();
        ModelFiles.Export(model, folder.File("m.pt"));

        var error = Fails("ModelFileUnrecognized", () => ModelFiles.Import(folder.File("m.pt"), ModelFileFormat.SafeTensors));
        Assert.Contains("-Format PyTorch", error.Message);
        Assert.Equal(ModelFileFormat.PyTorch, ModelFiles.Detect(folder.File("m.pt")));
    }

    [Fact]
    public void AStateDictWithOtherLayerNamesOrShapesIsRefused()
    {
        using var folder = new TempFolder();
        using var model = Model();
        string path = folder.File("m.safetensors");
        ModelFiles.Export(model, path);
        byte[] original = File.ReadAllBytes(path);

        // Same length, so the header stays valid: lin_1 renamed fc_1, then lin_2 renamed lin_3 (a gap).
        File.WriteAllBytes(path, Replace(original, "lin_1."u8.ToArray(), "fc_1.."u8.ToArray()));
        Assert.Contains("fc_1..weight", Fails("ModelStateDictInvalid", () => ModelFiles.Import(path)).Message);

        File.WriteAllBytes(path, Replace(original, "lin_2."u8.ToArray(), "lin_3."u8.ToArray()));
        Assert.Contains("numbered 1 to n", Fails("ModelStateDictInvalid", () => ModelFiles.Import(path)).Message);
    }

    [Fact]
    public void ATorchSaveCheckpointDictIsNotTakenForAStateDict()
    {
        using var folder = new TempFolder();
        // {"epoch": 3}: protocol 2, EMPTY_DICT, BINUNICODE "epoch", BININT1 3, SETITEM, STOP.
        byte[] pickle = { 0x80, 2, (byte)'}', (byte)'X', 5, 0, 0, 0, (byte)'e', (byte)'p', (byte)'o', (byte)'c', (byte)'h', (byte)'K', 3, (byte)'s', (byte)'.' };
        string path = folder.Write("checkpoint.pt", TorchZip(pickle));

        var error = Fails("ModelStateDictInvalid", () => ModelFiles.Import(path));
        Assert.Contains("'epoch'", error.Message);
    }

    [Fact]
    public void TheImportedActivationAndNameComeFromTheCaller()
    {
        using var folder = new TempFolder();
        using var model = Model();
        ModelFiles.Export(model, folder.File("weights.pt"));

        using var byFile = ModelFiles.Import(folder.File("weights.pt"), activation: Activation.Tanh);
        using var named = ModelFiles.Import(folder.File("weights.pt"), ModelFileFormat.PyTorch, Activation.ReLU, "renamed");

        Assert.Equal(("weights", 0L, 0, Activation.Tanh), (byFile.Name, byFile.Seed, byFile.EpochsTrained, byFile.Activation));
        Assert.Equal("renamed", named.Name);
        // Without it, nothing is guessed.
        var error = Fails("ModelActivationRequired", () => ModelFiles.Import(folder.File("weights.pt")));
        Assert.Contains("-Activation", error.Message);
        Assert.Empty(byFile.History.Runs);
    }

    // --- helpers -------------------------------------------------------------------------------------------------

    internal static byte[] Zip(params (string Name, byte[] Content)[] entries)
    {
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, content) in entries)
            {
                using Stream stream = zip.CreateEntry(name).Open();
                stream.Write(content);
            }
        }
        return buffer.ToArray();
    }

    /// <summary>A zip laid out as torch.save lays it out, with the given pickle as its data.pkl.</summary>
    internal static byte[] TorchZip(byte[] pickle) => Zip(("archive/data.pkl", pickle), ("archive/version", "3\n"u8.ToArray()));

    private static JsonNode ReadManifest(string path)
    {
        using var zip = ZipFile.OpenRead(path);
        using var stream = zip.GetEntry("mlptools-model.json")!.Open();
        return JsonNode.Parse(stream)!;
    }

    internal static void EditManifest(string path, Action<JsonNode> edit)
    {
        JsonNode manifest = ReadManifest(path);
        edit(manifest);
        using var zip = ZipFile.Open(path, ZipArchiveMode.Update);
        zip.GetEntry("mlptools-model.json")!.Delete();
        using var stream = zip.CreateEntry("mlptools-model.json").Open();
        stream.Write(Encoding.UTF8.GetBytes(manifest.ToJsonString()));
    }

    private static int IndexOf(byte[] haystack, byte[] needle) => haystack.AsSpan().IndexOf(needle);

    private static byte[] Replace(byte[] bytes, byte[] from, byte[] to)
    {
        byte[] copy = (byte[])bytes.Clone();
        for (int at = copy.AsSpan().IndexOf(from); at >= 0; at = copy.AsSpan().IndexOf(from))
        {
            to.CopyTo(copy, at);
        }
        return copy;
    }
}
