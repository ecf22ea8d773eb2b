using System.Text;
using MlpTools.Core.Data;
using MlpTools.Core.Data.Tabular;
using MlpTools.Core.Sweeps;
using Xunit;
using static MlpTools.Core.Tests.TestData;

namespace MlpTools.Core.Tests;

/// <summary>The sweep space (grid, seeded draws, ranges), trial keys, the JSONL result file and the dataset payload.</summary>
public class SweepTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private static SweepSpace Grid(params SweepDimension[] dimensions) => new(dimensions, null, 7);

    private static SweepDimension Values(string name, params object[] values) => SweepDimension.OfValues(name, values);

    private static SweepTrialResult Result(SweepTrial trial, double accuracy, double loss = 0.5) =>
        SweepTrialResult.Of(trial, new[] { new TrialEpoch(1, loss, accuracy, null, null) }, 1.5, "local", 7);

    private static SweepHeader Header(string fingerprint = "aaaaaaaaaaaaaaaaaaaaaaaa") => new(fingerprint, 7, "0.1.0", new DateTime(2025, 1, 1, 0, 0, 0, DateTimeKind.Utc));

    [Fact]
    public void GridListsEveryCombinationWithTheLastNameVaryingFastest()
    {
        var space = Grid(Values("LearningRate", 1e-3, 3e-3), Values("HiddenSize", new[] { 256 }, new[] { 512, 256 }), Values("Activation", "ReLU", "GELU"));
        var trials = space.Trials();
        Assert.Equal(8, trials.Count);
        Assert.Equal(8L, space.GridSize);
        Assert.Equal(new[] { "Activation", "HiddenSize", "LearningRate" }, trials[0].Parameters.Keys);
        Assert.Equal(new object[] { "ReLU", new[] { 256 }, 1e-3 }, trials[0].Parameters.Values);
        Assert.Equal(new object[] { "ReLU", new[] { 256 }, 3e-3 }, trials[1].Parameters.Values);
        Assert.Equal(new object[] { "GELU", new[] { 512, 256 }, 3e-3 }, trials[7].Parameters.Values);
        Assert.Equal(Enumerable.Range(1, 8), trials.Select(t => t.Number));
        Assert.Equal(8, trials.Select(t => t.Key).Distinct().Count());
    }

    [Fact]
    public void AKeyDependsOnTheValuesOnlyNotOnTheOrderTheyWereGivenIn()
    {
        var a = SweepTrial.Create(1, new Dictionary<string, object> { ["Dropout"] = 0.2, ["HiddenSize"] = new[] { 64, 32 } });
        var b = SweepTrial.Create(9, new Dictionary<string, object> { ["HiddenSize"] = new[] { 64, 32 }, ["Dropout"] = 0.2 });
        var c = SweepTrial.Create(1, new Dictionary<string, object> { ["HiddenSize"] = new[] { 32, 64 }, ["Dropout"] = 0.2 });
        Assert.Equal(a.Key, b.Key);
        Assert.NotEqual(a.Key, c.Key);
        Assert.Matches("^[0-9a-f]{16}$", a.Key);
    }

    [Fact]
    public void RandomDrawsAreTheSameForTheSameSeedAndStayInTheirRanges()
    {
        SweepDimension[] Space() => new[]
        {
            SweepDimension.OfRange("LearningRate", 1e-4, 1e-1, logScale: true, integer: false),
            SweepDimension.OfRange("BatchSize", 16, 64, logScale: false, integer: true),
            Values("Activation", "ReLU", "GELU", "Tanh"),
        };
        var first = new SweepSpace(Space(), 20, 42).Trials();
        var again = new SweepSpace(Space(), 20, 42).Trials();
        var other = new SweepSpace(Space(), 20, 43).Trials();
        Assert.Equal(20, first.Count);
        Assert.Equal(first.Select(t => t.Key), again.Select(t => t.Key));
        Assert.NotEqual(first.Select(t => t.Key), other.Select(t => t.Key));
        Assert.All(first, t =>
        {
            Assert.InRange((double)t.Parameters["LearningRate"], 1e-4, 1e-1);
            Assert.InRange((long)t.Parameters["BatchSize"], 16L, 64L);
            Assert.Contains(t.Parameters["Activation"], new object[] { "ReLU", "GELU", "Tanh" });
        });
        // Log scale: about as many draws below 1e-2.5 as above, where a uniform draw would put nearly all above.
        int low = first.Count(t => (double)t.Parameters["LearningRate"] < Math.Pow(10, -2.5));
        Assert.InRange(low, 4, 16);
    }

    [Fact]
    public void RandomDrawsFromASmallSpaceStopAtItsDistinctCombinations()
    {
        var trials = new SweepSpace(new[] { Values("Dropout", 0.0, 0.5), Values("Activation", "ReLU", "GELU") }, 10, 1).Trials();
        Assert.Equal(4, trials.Count);
        Assert.Equal(4, trials.Select(t => t.Key).Distinct().Count());
    }

    [Fact]
    public void BadSpacesAreRefusedWithTheirIds()
    {
        Fails("SweepSpaceEmpty", () => new SweepSpace(Array.Empty<SweepDimension>(), null, 1));
        Fails("SweepSpaceEmpty", () => Values("Dropout"));
        Fails("SweepParameterValueInvalid", () => Values("LearningRate", 1e-3, double.NaN));
        Fails("SweepRangeNeedsCount", () => Grid(SweepDimension.OfRange("LearningRate", 1e-4, 1e-2, false, false)));
        Fails("SweepRangeInvalid", () => SweepDimension.OfRange("LearningRate", 1e-2, 1e-4, false, false));
        Fails("SweepRangeInvalid", () => SweepDimension.OfRange("WeightDecay", 0, 1e-2, logScale: true, integer: false));
        Fails("SweepParameterDuplicate", () => Grid(Values("Dropout", 0.1), Values("dropout", 0.2)));
        var huge = Enumerable.Range(0, 6).Select(i => Values($"P{i}", Enumerable.Range(0, 10).Select(v => (object)(long)v).ToArray())).ToArray();
        Fails("SweepSpaceTooLarge", () => Grid(huge).Trials());
    }

    [Fact]
    public void TheFingerprintChangesWithDataSpaceSeedAndSettings()
    {
        var settings = new Dictionary<string, object> { ["Epochs"] = 2L };
        string Of(string data, double rate, long seed, long epochs) => SweepFingerprint.Of(new[] { data },
            new SweepSpace(new[] { Values("LearningRate", rate) }, null, seed), new Dictionary<string, object> { ["Epochs"] = epochs });
        string baseline = Of("d1", 1e-3, 1, 2);
        Assert.Equal(baseline, Of("d1", 1e-3, 1, 2));
        Assert.NotEqual(baseline, Of("d2", 1e-3, 1, 2));
        Assert.NotEqual(baseline, Of("d1", 3e-3, 1, 2));
        Assert.NotEqual(baseline, Of("d1", 1e-3, 2, 2));
        Assert.NotEqual(baseline, Of("d1", 1e-3, 1, 3));
    }

    [Fact]
    public void AResultSummarisesTheKeptEpoch()
    {
        var trial = SweepTrial.Create(3, new Dictionary<string, object> { ["Dropout"] = 0.0 });
        var plain = SweepTrialResult.Of(trial, new[] { new TrialEpoch(1, 0.9, 0.6, null, null), new TrialEpoch(2, 0.4, 0.8, null, null), new TrialEpoch(3, 0.5, 0.85, null, null) }, 2, "local", 1);
        Assert.Equal((0.85, 0.5, 3, 2), (plain.ValidationAccuracy!.Value, plain.ValidationLoss!.Value, plain.EpochsRun, plain.BestEpoch));
        // Early stopping: the model keeps epoch 2's weights, so epoch 2's scores are the trial's.
        var stopped = SweepTrialResult.Of(trial, new[] { new TrialEpoch(1, 0.9, 0.6, null, 1), new TrialEpoch(2, 0.4, 0.8, null, 2), new TrialEpoch(3, 0.5, 0.85, null, 2) }, 2, "local", 1);
        Assert.Equal((0.8, 0.4, 3, 2), (stopped.ValidationAccuracy!.Value, stopped.ValidationLoss!.Value, stopped.EpochsRun, stopped.BestEpoch));
        Fails("SweepTrialFailed", () => SweepTrialResult.Of(trial, new[] { new TrialEpoch(1, null, null, null, null) }, 1, "local", 1));
    }

    [Fact]
    public void TheBestIsTheMostAccurateThenTheLowestLossThenTheFirst()
    {
        var trials = Grid(Values("Dropout", 0.0, 0.1, 0.2, 0.3)).Trials();
        var results = new[] { Result(trials[0], 0.8, 0.3), Result(trials[1], 0.9, 0.5), Result(trials[2], 0.9, 0.4), Result(trials[3], 0.9, 0.4) };
        Assert.Equal(3, SweepTrialResult.Best(results)!.Trial);
        var regression = new[]
        {
            SweepTrialResult.Of(trials[0], new[] { new TrialEpoch(1, 0.2, null, 3.0, null) }, 1, "local", 1),
            SweepTrialResult.Of(trials[1], new[] { new TrialEpoch(1, 0.3, null, 2.0, null) }, 1, "local", 1),
        };
        Assert.Equal(2, SweepTrialResult.Best(regression)!.Trial);
        Assert.Null(SweepTrialResult.Best(Array.Empty<SweepTrialResult>()));
    }

    [Fact]
    public void TheResultFileKeepsEveryFinishedTrialAndResumesFromIt()
    {
        string path = _temp.File("sweep.jsonl");
        var trials = Grid(Values("HiddenSize", new[] { 8 }, new[] { 16, 8 }), Values("LearningRate", 1e-3, 3e-3)).Trials();
        using (var file = SweepResultFile.Open(path, Header(), resume: false))
        {
            Assert.Empty(file.Finished);
            file.Append(Result(trials[0], 0.75));
            file.Append(SweepTrialResult.Of(trials[1], new[] { new TrialEpoch(1, double.NaN, 0.5, null, null) }, 1, "127.0.0.1/Runspace2", 7));
        }
        string[] lines = File.ReadAllLines(path);
        Assert.Equal(3, lines.Length);
        Assert.Contains("\"format\":\"MlpTools.Sweep\"", lines[0]);
        Assert.Equal(7, SweepResultFile.ReadHeader(path)!.Seed);
        using (var file = SweepResultFile.Open(path, Header(), resume: true))
        {
            Assert.Equal(new[] { trials[0].Key, trials[1].Key }, file.Finished.Select(r => r.Key));
            var first = file.Finished[0];
            Assert.True(first.FromResultFile);
            Assert.Equal((0.75, 0.5, 1, 1.5, "local", 7L), (first.ValidationAccuracy!.Value, first.ValidationLoss!.Value, first.BestEpoch, first.Seconds, first.Location, first.Seed));
            Assert.Equal(new[] { 8 }, (int[])first.Parameters["HiddenSize"]);
            Assert.Equal(1e-3, first.Parameters["LearningRate"]);
            Assert.True(double.IsNaN(file.Finished[1].ValidationLoss!.Value));
            Assert.Equal(3e-3, file.Finished[1].Parameters["LearningRate"]);
            Assert.Equal("127.0.0.1/Runspace2", file.Finished[1].Location);
        }
    }

    [Fact]
    public void ATornLastLineIsCutOffAndTheFileGoesOn()
    {
        string path = _temp.File("torn.jsonl");
        var trials = Grid(Values("Dropout", 0.0, 0.1, 0.2)).Trials();
        using (var file = SweepResultFile.Open(path, Header(), resume: false))
        {
            file.Append(Result(trials[0], 0.7));
        }
        File.AppendAllText(path, "{\"trial\":2,\"key\":\"abc");
        using (var file = SweepResultFile.Open(path, Header(), resume: true))
        {
            Assert.Single(file.Finished);
            file.Append(Result(trials[2], 0.9));
        }
        string[] lines = File.ReadAllLines(path);
        Assert.Equal(3, lines.Length);
        Assert.Contains(trials[2].Key, lines[2]);
        using var again = SweepResultFile.Open(path, Header(), resume: true);
        Assert.Equal(new[] { trials[0].Key, trials[2].Key }, again.Finished.Select(r => r.Key));
    }

    [Fact]
    public void AFileOfAnotherSweepOrNotOfASweepIsRefusedUnchanged()
    {
        string path = _temp.File("other.jsonl");
        using (var file = SweepResultFile.Open(path, Header("bbbbbbbbbbbbbbbbbbbbbbbb"), resume: false))
        {
            file.Append(Result(Grid(Values("Dropout", 0.0)).Trials()[0], 0.7));
        }
        byte[] before = File.ReadAllBytes(path);
        Fails("SweepResultFileMismatch", () => SweepResultFile.Open(path, Header(), resume: true));
        Fails("SweepResultFileExists", () => SweepResultFile.Open(path, Header("bbbbbbbbbbbbbbbbbbbbbbbb"), resume: false));
        Assert.Equal(before, File.ReadAllBytes(path));

        string notes = _temp.Write("notes.jsonl", Encoding.UTF8.GetBytes("{\"hello\":1}\n"));
        Fails("SweepResultFileDamaged", () => SweepResultFile.Open(notes, Header(), resume: true));
        string damaged = _temp.Write("damaged.jsonl", before.Concat(Encoding.UTF8.GetBytes("not json\n")).Concat(before.Skip(Array.IndexOf(before, (byte)'\n') + 1)).ToArray());
        byte[] damagedBefore = File.ReadAllBytes(damaged);
        Fails("SweepResultFileDamaged", () => SweepResultFile.Open(damaged, Header("bbbbbbbbbbbbbbbbbbbbbbbb"), resume: true));
        Assert.Equal(damagedBefore, File.ReadAllBytes(damaged));
        Assert.Null(SweepResultFile.ReadHeader(_temp.File("missing.jsonl")));
    }

    [Fact]
    public void ADatasetSurvivesThePayloadWithItsFingerprint()
    {
        var images = Separable(24, noiseSeed: 3);
        var copy = DatasetPayload.Read(DatasetPayload.Write(images));
        Assert.Equal(DatasetFingerprint.Of(images), DatasetFingerprint.Of(copy));
        Assert.Equal((images.Name, images.Split, images.ImageHeight, images.ClassCount), (copy.Name, copy.Split, copy.ImageHeight, copy.ClassCount));

        var builder = new TableBuilder(new[] { "Size", "Color", "Price" }, new TableBuilderOptions { TargetColumns = new[] { "Price" }, RequireLabel = false });
        builder.AddRow(new object?[] { 1.5, "red", 10.0 });
        builder.AddRow(new object?[] { 2.5, "blue", 20.0 });
        var table = MlpDataset.FromTable("prices", "Train", builder.Build("rows"), "rows");
        var tableCopy = DatasetPayload.Read(DatasetPayload.Write(table));
        Assert.Equal(DatasetFingerprint.Of(table), DatasetFingerprint.Of(tableCopy));
        Assert.Equal(table.FeatureNames, tableCopy.FeatureNames);
        Assert.Equal(table.TargetNames, tableCopy.TargetNames);
        Assert.Equal(table.GetFeatures(1), tableCopy.GetFeatures(1));

        byte[] cut = DatasetPayload.Write(images)[..100];
        Fails("SweepDatasetPayloadInvalid", () => DatasetPayload.Read(cut));
    }
}
