using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using MlpTools.Core.Data;
using MlpTools.Core.Modeling;
using MlpTools.Core.Persistence;
using MlpTools.Core.Training;
using static TorchSharp.torch;

namespace MlpTools.Core.Tests.Fuzz;

/// <summary>The file formats the module reads, each fuzzed from one seed file made by the module itself.</summary>
internal enum FuzzFormat { Idx, IdxGz, Mlp, PyTorch, SafeTensors, Checkpoint }

/// <summary>
/// The intact files the fuzzer damages, made in the test: a 16-8-3 model trained for one epoch and exported in each
/// format, a checkpoint of a two-epoch run stopped after its first epoch, and a small images and labels IDX pair (raw and
/// gzip). Timestamps, durations and torch's global generator are pinned, so the same master seed damages the same bytes
/// on every run. The first worker makes them; workers started after a crash read them back.
/// </summary>
internal sealed class FuzzSeeds
{
    public static readonly TrainingOptions Recipe = new() { Epochs = 2, BatchSize = 16, LearningRate = 0.01, Seed = 3 };
    public const int IdxCount = 12, IdxHeight = 5, IdxWidth = 4;

    private FuzzSeeds(string folder)
    {
        byte[] Read(string name) => File.ReadAllBytes(Path.Combine(folder, name));
        Model = Read("model.mlp");
        PyTorch = Read("model.pt");
        SafeTensors = Read("model.safetensors");
        Checkpoint = Read("run.ckpt");
        Images = Read("images-idx3-ubyte");
        Labels = Read("labels-idx1-ubyte");
        Weights = MemoryMarshal.Cast<byte, float>(Read("weights.bin")).ToArray();
        ResumedWeights = MemoryMarshal.Cast<byte, float>(Read("resumed-weights.bin")).ToArray();
    }

    public byte[] Model { get; }
    public byte[] PyTorch { get; }
    public byte[] SafeTensors { get; }
    public byte[] Checkpoint { get; }
    public byte[] Images { get; }
    public byte[] Labels { get; }
    /// <summary>The exported model's weights and biases, layer by layer.</summary>
    public float[] Weights { get; }
    /// <summary>The weights a resume of the intact checkpoint ends with: a resume of a harmlessly damaged one must end with them too.</summary>
    public float[] ResumedWeights { get; }
    /// <summary>The data the checkpoint's run trained on (its fingerprint is in the checkpoint).</summary>
    public MlpDataset TrainingData { get; } = TestData.Separable();

    public byte[] For(FuzzFormat format, bool images) => format switch
    {
        FuzzFormat.Idx => images ? Images : Labels,
        FuzzFormat.IdxGz => TestData.Gzip(images ? Images : Labels),
        FuzzFormat.Mlp => Model,
        FuzzFormat.PyTorch => PyTorch,
        FuzzFormat.SafeTensors => SafeTensors,
        _ => Checkpoint,
    };

    /// <summary>The seeds in <paramref name="folder"/>, made there first if need be (<paramref name="made"/> then true).</summary>
    public static FuzzSeeds LoadOrMake(string folder, out bool made)
    {
        string seeds = Path.Combine(folder, "seeds");
        string complete = Path.Combine(seeds, "complete");
        made = !File.Exists(complete);
        if (made)
        {
            Directory.CreateDirectory(seeds);
            Make(seeds);
            File.WriteAllText(complete, "");
        }
        return new FuzzSeeds(seeds);
    }

    private static void Make(string folder)
    {
        void Write(string name, byte[] content) => File.WriteAllBytes(Path.Combine(folder, name), content);
        // The checkpoint records torch's global generator too.
        manual_seed(1);
        var data = TestData.Separable();
        var architecture = new MlpArchitecture(TestData.PixelsPerImage, new[] { 8 }, 3, ActivationSpec.ReLU);
        using (var model = MlpModel.Create("fuzz", architecture, seed: 5))
        {
            Trainer.Train(model, data, null, Recipe with { Epochs = 1 }).ToList();
            foreach (string name in new[] { "model.mlp", "model.pt", "model.safetensors" })
            {
                ModelFiles.Export(model, Path.Combine(folder, name), overwrite: true);
            }
            Write("model.mlp", Pinned(File.ReadAllBytes(Path.Combine(folder, "model.mlp"))));
            Write("model.pt", Zip.Rebuild(Zip.Read(File.ReadAllBytes(Path.Combine(folder, "model.pt")))));
            Write("weights.bin", MemoryMarshal.AsBytes(WeightsOf(model).AsSpan()).ToArray());
        }

        string checkpointPath = Path.Combine(folder, "run.ckpt");
        using (var interrupted = MlpModel.Create("fuzz", architecture, seed: 5))
        {
            using var stop = new CancellationTokenSource();
            var stopInEpoch2 = new TestData.SyncProgress<TrainingProgress>(p => { if (p.Epoch == 2) stop.Cancel(); });
            try
            {
                Trainer.Train(interrupted, data, null, Recipe, stopInEpoch2, stop.Token, TrainingCheckpoint.WriteTo(checkpointPath)).ToList();
            }
            catch (OperationCanceledException)
            {
                // Stopped in its second epoch, as meant: the checkpoint holds the first.
            }
        }
        byte[] checkpoint = Pinned(File.ReadAllBytes(checkpointPath));
        Write("run.ckpt", checkpoint);
        var resumed = TrainingCheckpoint.Resume(checkpointPath, data, null);
        using (var model = resumed.Model)
        {
            Trainer.Train(model, data, null, resumed.Options, checkpoint: resumed.Checkpoint).ToList();
            Write("resumed-weights.bin", MemoryMarshal.AsBytes(WeightsOf(model).AsSpan()).ToArray());
        }
        Write("run.ckpt", checkpoint);

        var random = new Random(11);
        var pixels = new byte[IdxCount * IdxHeight * IdxWidth];
        random.NextBytes(pixels);
        Write("images-idx3-ubyte", TestData.Idx(new[] { IdxCount, IdxHeight, IdxWidth }, pixels));
        Write("labels-idx1-ubyte", TestData.Idx(new[] { IdxCount }, Enumerable.Range(0, IdxCount).Select(_ => (byte)random.Next(10)).ToArray()));
    }

    public static float[] WeightsOf(MlpModel model)
    {
        using var scope = NewDisposeScope();
        return model.Network.parameters().SelectMany(p => p.data<float>().ToArray()).ToArray();
    }

    /// <summary>An MlpTools file with its creation and start times and epoch durations pinned and its zip rebuilt with fixed timestamps.</summary>
    private static byte[] Pinned(byte[] file)
    {
        var entries = Zip.Read(file);
        var manifest = JsonNode.Parse(entries[0].Content)!;
        Pin(manifest);
        entries[0] = (entries[0].Name, System.Text.Encoding.UTF8.GetBytes(manifest.ToJsonString()), entries[0].Deflated);
        return Zip.Rebuild(entries);
    }

    private static void Pin(JsonNode? node)
    {
        if (node is JsonObject obj)
        {
            foreach (var (name, child) in obj.ToList())
            {
                if (name.Equals("created", StringComparison.OrdinalIgnoreCase) || name.Equals("started", StringComparison.OrdinalIgnoreCase))
                {
                    obj[name] = "2020-01-01T00:00:00+00:00";
                }
                else if (name.Contains("second", StringComparison.OrdinalIgnoreCase) || name.Contains("duration", StringComparison.OrdinalIgnoreCase))
                {
                    obj[name] = child is JsonValue v && v.TryGetValue(out string? _) ? "00:00:01" : 1.0;
                }
                else
                {
                    Pin(child);
                }
            }
        }
        else if (node is JsonArray array)
        {
            foreach (var child in array)
            {
                Pin(child);
            }
        }
    }
}
