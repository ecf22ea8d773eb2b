using System.Diagnostics;
using System.Security.Cryptography;
using MlpTools.Core.Data;
using MlpTools.Core.Modeling;
using MlpTools.Core.Persistence;
using MlpTools.Core.Platform;
using MlpTools.Core.Training;
using static TorchSharp.torch;

namespace MlpTools.Core.Tests.Fuzz;

/// <summary>
/// The child process of <see cref="FileFuzzTests"/>: makes the seed files, then for each case damages one and loads it
/// through the cmdlets' entry points, printing one line before and one after, so that the parent can name the case that
/// crashed, hung or took too much memory. Run by hand to replay cases:
/// <c>dotnet out/xunit/MlpTools.Core.Tests.dll fuzz-worker FOLDER MASTERSEED CASE[,CASE...|FIRST..LAST]</c>.
/// An optional fourth argument, such as <c>abort:2,hang:3,hog:4</c>, makes those cases fail on purpose instead, so the
/// test of the harness can show that it names a case that kills, blocks or bloats the process.
/// </summary>
internal static class FuzzWorker
{
    public const string Command = "fuzz-worker";
    public const string Prefix = "fuzz:";

    public static int Run(string[] args)
    {
        string folder = args[0];
        long masterSeed = long.Parse(args[1]);
        IEnumerable<int> cases = ParseCases(args[2]);
        var faults = args.Length > 3 ? args[3].Split(',').Select(f => f.Split(':')).ToDictionary(f => int.Parse(f[1]), f => f[0]) : new();
        Directory.CreateDirectory(folder);

        var seeds = FuzzSeeds.LoadOrMake(folder, out bool made);
        foreach (FuzzFormat format in Enum.GetValues<FuzzFormat>())
        {
            byte[] seed = seeds.For(format, images: true);
            Say($"seed {format} {seed.Length} bytes sha256 {Convert.ToHexString(SHA256.HashData(seed))[..16]}");
        }
        foreach (FuzzFormat format in made ? Enum.GetValues<FuzzFormat>() : Array.Empty<FuzzFormat>())
        {
            // The intact seeds must load as themselves, or every verdict below would be meaningless (checked once, when made).
            var intact = new Mutant("none", "intact seed", seeds.For(format, images: true), Expectation.SeedContentRequired);
            string verdict = Load(format, images: true, intact, seeds, folder);
            if (verdict != "loaded")
            {
                throw new InvalidOperationException($"The intact {format} seed does not load as itself: {verdict}");
            }
        }

        foreach (int number in cases)
        {
            var (format, images, mutant) = Case(seeds, masterSeed, number);
            Say($"case {number} {format} {(format is FuzzFormat.Idx or FuzzFormat.IdxGz ? (images ? "images" : "labels") : "-")} {mutant.Class} | {mutant.Detail}");
            var clock = Stopwatch.StartNew();
            if (faults.TryGetValue(number, out string? fault))
            {
                Misbehave(fault);
            }
            string verdict = Load(format, images, mutant, seeds, folder);
            Say($"done {number} {clock.ElapsedMilliseconds} {StatusKilobytes("/proc/self/status", "VmHWM")} {verdict}");
        }
        Say("end");
        return 0;
    }

    /// <summary>Case <paramref name="number"/> of the run seeded <paramref name="masterSeed"/>: the same on every run, whatever other cases run.</summary>
    public static (FuzzFormat Format, bool Images, Mutant Mutant) Case(FuzzSeeds seeds, long masterSeed, int number)
    {
        var random = new Random((int)((masterSeed * 6364136223846793005L + number * 1442695040888963407L) >>> 33));
        int formats = Enum.GetValues<FuzzFormat>().Length;
        var format = (FuzzFormat)(number % formats);
        bool images = random.Next(2) == 0;
        return (format, images, Mutator.Mutate(format, seeds, images, number / formats, random));
    }

    private static void Misbehave(string fault)
    {
        switch (fault)
        {
            case "abort":
                Environment.FailFast("fuzz harness test: abort");
                break;
            case "hang":
                Thread.Sleep(Timeout.Infinite);
                break;
            default:
                var hog = new List<byte[]>();
                while (true)
                {
                    hog.Add(new byte[64 << 20]);
                    Array.Fill(hog[^1], (byte)1);
                }
        }
    }

    /// <summary>A memory figure (VmHWM, VmRSS, ...) of a process's /proc status file, in kB; 0 when there is none.</summary>
    public static long StatusKilobytes(string statusFile, string field)
    {
        try
        {
            return File.ReadLines(statusFile).Where(l => l.StartsWith(field + ":", StringComparison.Ordinal))
                .Select(l => long.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1])).FirstOrDefault();
        }
        catch (IOException)
        {
            return 0; // no /proc here, or the process is gone
        }
    }

    /// <summary>"17,42" or "0..299".</summary>
    public static List<int> ParseCases(string text)
    {
        if (text.Split("..") is [string first, string last])
        {
            return Enumerable.Range(int.Parse(first), int.Parse(last) - int.Parse(first) + 1).ToList();
        }
        return text.Split(',').Select(int.Parse).ToList();
    }

    private static void Say(string line) => Console.WriteLine(Prefix + line);

    /// <summary>
    /// Loads the damaged file as the cmdlets do and says how it ended: "loaded", "wrong ..." (loaded, but not correctly),
    /// "refused ID ..." (an MlpToolsException) or "threw TYPE ..." (anything else: an UnexpectedEngineFailure in pwsh).
    /// </summary>
    private static string Load(FuzzFormat format, bool images, Mutant mutant, FuzzSeeds seeds, string folder)
    {
        string caseFolder = Path.Combine(folder, "case");
        if (Directory.Exists(caseFolder))
        {
            Directory.Delete(caseFolder, recursive: true);
        }
        Directory.CreateDirectory(caseFolder);
        try
        {
            string? wrong = format switch
            {
                FuzzFormat.Idx or FuzzFormat.IdxGz => LoadIdx(format, images, mutant, seeds, caseFolder),
                FuzzFormat.Checkpoint => Resume(mutant, seeds, caseFolder),
                _ => Import(format, mutant, seeds, caseFolder),
            };
            return wrong is null ? "loaded" : "wrong " + wrong;
        }
        catch (MlpToolsException e) when (mutant.Expect == Expectation.SeedContentRequired)
        {
            return $"wrong refused with {e.ErrorId} although the file is valid ({OneLine(e.Message)})";
        }
        catch (MlpToolsException e)
        {
            return $"refused {e.ErrorId} {OneLine(e.Message)}";
        }
        catch (Exception e)
        {
            return $"threw {e.GetType().FullName} {OneLine(e.Message)}";
        }
    }

    private static string OneLine(string text)
    {
        string line = text.ReplaceLineEndings(" ");
        return line.Length > 240 ? line[..240] + "..." : line;
    }

    private static string? LoadIdx(FuzzFormat format, bool images, Mutant mutant, FuzzSeeds seeds, string folder)
    {
        string suffix = format == FuzzFormat.IdxGz ? ".gz" : "";
        string imagesPath = Path.Combine(folder, "images-idx3-ubyte" + suffix);
        string labelsPath = Path.Combine(folder, "labels-idx1-ubyte" + suffix);
        File.WriteAllBytes(imagesPath, images ? mutant.Bytes : seeds.For(format, images: true));
        File.WriteAllBytes(labelsPath, images ? seeds.For(format, images: false) : mutant.Bytes);
        var dataset = MnistFiles.Load(imagesPath, labelsPath, "fuzz", "Train");
        if (mutant.Expect == Expectation.Refusal)
        {
            return "accepted although it must be refused";
        }
        if (mutant.Expect is Expectation.SeedContent or Expectation.SeedContentRequired &&
            !(dataset.Count == FuzzSeeds.IdxCount && dataset.ImageHeight == FuzzSeeds.IdxHeight && dataset.ImageWidth == FuzzSeeds.IdxWidth &&
              dataset.Pixels.AsSpan().SequenceEqual(seeds.Images.AsSpan(16)) && dataset.Labels!.Select(l => (byte)l).SequenceEqual(seeds.Labels.Skip(8))))
        {
            return $"read as {dataset}, not the seed's content, although its checksum no longer matches";
        }
        return null;
    }

    private static string? Import(FuzzFormat format, Mutant mutant, FuzzSeeds seeds, string folder)
    {
        string path = Path.Combine(folder, "model" + format switch { FuzzFormat.PyTorch => ".pt", FuzzFormat.SafeTensors => ".safetensors", _ => ".mlp" });
        File.WriteAllBytes(path, mutant.Bytes);
        // A .pt file never says its activation, so the caller gives it as Import-Mlp -Activation does; the others record theirs.
        using var model = ModelFiles.Import(path, activation: format == FuzzFormat.PyTorch ? Activation.ReLU : null);
        return Judge(model, mutant, seeds.Weights);
    }

    private static string? Resume(Mutant mutant, FuzzSeeds seeds, string folder)
    {
        string path = Path.Combine(folder, "run.ckpt");
        File.WriteAllBytes(path, mutant.Bytes);
        var resumed = TrainingCheckpoint.Resume(path, seeds.TrainingData, null);
        using var model = resumed.Model;
        var records = Trainer.Train(model, seeds.TrainingData, null, resumed.Options, checkpoint: resumed.Checkpoint).ToList();
        if (records.FirstOrDefault(r => !double.IsFinite(r.Loss)) is { } bad)
        {
            return $"resumed training gave the non-finite loss {bad.Loss} in epoch {bad.Epoch} without an error";
        }
        return Judge(model, mutant, seeds.ResumedWeights);
    }

    /// <summary>Null when the loaded model is a correct load of <paramref name="mutant"/>; otherwise what is wrong with it.</summary>
    private static string? Judge(MlpModel model, Mutant mutant, float[] seedWeights)
    {
        float[] weights = FuzzSeeds.WeightsOf(model);
        if (mutant.Expect == Expectation.Refusal)
        {
            return $"accepted although it must be refused (model {model})";
        }
        if (mutant.Expect is Expectation.SeedContent or Expectation.SeedContentRequired && !weights.SequenceEqual(seedWeights))
        {
            return $"loaded as {model} with weights other than the seed's, although its checksums no longer match";
        }
        if (!weights.All(float.IsFinite))
        {
            return $"loaded as {model} with {weights.Count(w => !float.IsFinite(w))} non-finite weights";
        }
        using var scope = NewDisposeScope();
        using var output = model.Forward(ones(1, model.InputSize));
        if (!output.isfinite().all().item<bool>())
        {
            return $"loaded as {model}, whose predictions are not finite";
        }
        return null;
    }
}
