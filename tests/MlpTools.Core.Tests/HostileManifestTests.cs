using System.Text.Json.Nodes;
using MlpTools.Core.Modeling;
using MlpTools.Core.Persistence;
using MlpTools.Core.Training;
using Xunit;
using static MlpTools.Core.Tests.HostileFileHelpers;
using static MlpTools.Core.Tests.ModelFilesTests;
using static MlpTools.Core.Tests.TestData;
using static TorchSharp.torch;

namespace MlpTools.Core.Tests;

/// <summary>Manifests and weights made to hurt (issue 11): every value is checked as New-Mlp and the trainer check it.</summary>
public class HostileManifestTests
{

    // --- 5. memory bombs: sizes are checked against the architecture before anything is inflated ---------------------
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
}
