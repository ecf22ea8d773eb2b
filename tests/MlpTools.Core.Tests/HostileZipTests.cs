using System.Text;
using MlpTools.Core.Modeling;
using MlpTools.Core.Persistence;
using Xunit;
using static MlpTools.Core.Tests.HostileFileHelpers;
using static MlpTools.Core.Tests.TestData;

namespace MlpTools.Core.Tests;

/// <summary>Zips made to hurt (issue 11): ambiguous archives, deflate bombs and rewritten entries.</summary>
public class HostileZipTests
{
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
}
