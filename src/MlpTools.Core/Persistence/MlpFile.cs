using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;
using MlpTools.Core.Modeling;
using MlpTools.Core.Platform;
using static TorchSharp.torch;

namespace MlpTools.Core.Persistence;

/// <summary>
/// MlpTools' own file: a zip whose first entry is the manifest (mlptools-model.json: architecture, metadata, history,
/// and the SHA-256 of every other entry) and whose weights are a SafeTensors state_dict (weights.safetensors), so any
/// zip tool and any SafeTensors reader can open it. A checkpoint is the same file with the training state added.
/// </summary>
internal static class MlpFile
{
    private const long MaxManifestBytes = 64 << 20;
    /// <summary>Room in an entry for what is not weights: a SafeTensors header, the optimiser's step counts and hyperparameters.</summary>
    private const long EntryOverheadBytes = 1 << 20;

    /// <summary>Writes the model (and, for a checkpoint, the training state) to <paramref name="stream"/>.</summary>
    public static void Write(Stream stream, MlpModel model, CheckpointState? training = null, IReadOnlyDictionary<string, byte[]>? extraEntries = null)
    {
        byte[] weights;
        using (var buffer = new MemoryStream())
        {
            StateDicts.WriteSafeTensors(model.Network.state_dict(), buffer);
            weights = buffer.ToArray();
        }
        var entries = new Dictionary<string, byte[]> { [ModelManifest.WeightsEntry] = weights };
        foreach (var (name, content) in extraEntries ?? new Dictionary<string, byte[]>())
        {
            entries[name] = content;
        }

        var history = model.History.Runs.ToList();
        var last = model.History.LastEpoch;
        var manifest = new ModelManifest
        {
            Kind = training is null ? ModelManifest.ModelKind : ModelManifest.CheckpointKind,
            Created = DateTimeOffset.UtcNow,
            Producer = ProducerInfo.Current(),
            Architecture = ArchitectureManifest.Of(model),
            Files = entries.ToDictionary(e => e.Key, e => Sha256(e.Value)),
            History = history,
            FinalMetrics = last is null ? null : new FinalMetrics(last.Epoch, last.Loss, last.TrainAccuracy, last.ValidationAccuracy),
            Training = training,
        };

        using var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true);
        AddEntry(zip, ModelManifest.EntryName, PersistenceJson.Serialize(manifest), CompressionLevel.Optimal);
        foreach (var (name, content) in entries)
        {
            // Trained float32 weights hardly compress; stored as they are, they stay quick to read and easy to inspect.
            AddEntry(zip, name, content, CompressionLevel.NoCompression);
        }
    }

    /// <summary>An MlpTools file read and checked: its manifest and every entry the manifest lists, hashes verified.</summary>
    public sealed record Contents(ModelManifest Manifest, IReadOnlyDictionary<string, byte[]> Entries);

    public static Contents Read(Stream stream, string path)
    {
        try
        {
            using var zip = ZipEntries.Open(stream, path);
            ZipArchiveEntry manifestEntry = zip.GetEntry(ModelManifest.EntryName)
                ?? throw ModelFileErrors.Unrecognized(path, zip.Entries.Any(e => e.Name == "data.pkl")
                    ? "it is a PyTorch state_dict, not an MlpTools model file. Import it with '-Format PyTorch' (or '-Format Auto')."
                    : $"it is a zip archive without {ModelManifest.EntryName}.");
            ModelManifest manifest = ReadManifest(ZipEntries.Read(manifestEntry, MaxManifestBytes, path), path);

            // Every entry is bounded by what the architecture needs before a byte of it is inflated: the weights by their
            // count, anything else (the optimiser's state: two values per weight for Adam) by a few times that.
            double parameters = manifest.Architecture!.ToMlpArchitecture().CountParameters();
            var entries = new Dictionary<string, byte[]>();
            foreach (var (name, sha256) in manifest.Files)
            {
                ZipArchiveEntry entry = zip.GetEntry(name) ?? throw ModelFileErrors.Corrupt(path, $"its entry '{name}' is missing.");
                double valuesAtMost = name == ModelManifest.WeightsEntry ? parameters : 4 * parameters;
                byte[] content = ZipEntries.Read(entry, (long)Math.Min(Array.MaxLength, valuesAtMost * sizeof(float) + EntryOverheadBytes), path);
                if (!string.Equals(Sha256(content), sha256, StringComparison.OrdinalIgnoreCase))
                {
                    throw ModelFileErrors.Corrupt(path, $"its entry '{name}' does not match the SHA-256 the manifest records for it.");
                }
                entries[name] = content;
            }
            if (!entries.ContainsKey(ModelManifest.WeightsEntry))
            {
                throw ModelFileErrors.Corrupt(path, $"its manifest lists no {ModelManifest.WeightsEntry}.");
            }
            return new Contents(manifest, entries);
        }
        catch (InvalidDataException e)
        {
            throw ModelFileErrors.Corrupt(path, $"its zip structure cannot be read ({e.Message}). The file may have been cut short.", e);
        }
    }

    /// <summary>Builds the model the file describes, with its weights and history, on <paramref name="device"/> (files do not record one).</summary>
    public static MlpModel ToModel(Contents contents, string path, ModelOrigin origin, string? name = null, ComputeDevice device = ComputeDevice.Cpu)
    {
        ArchitectureManifest architecture = contents.Manifest.Architecture!;
        if (name is not null)
        {
            architecture = architecture with { Name = name };
        }
        MlpModel? model = null;
        try
        {
            using (NewDisposeScope())
            {
                using var weights = new MemoryStream(contents.Entries[ModelManifest.WeightsEntry], writable: false);
                // MlpTools writes exactly the architecture's tensors in float32; anything else is refused before it is read.
                var tensors = StateDicts.ReadSafeTensors(weights, path,
                    (layouts, _) => StateDicts.RequireLayout(layouts, architecture.ToMlpArchitecture().ParameterShapes(), ScalarType.Float32, path));
                model = architecture.Build(device);
                StateDicts.Load(model, tensors, path);
            }
            model.History.Restore(contents.Manifest.History ?? new List<TrainingRun>(), origin);
            return model;
        }
        catch
        {
            model?.Dispose();
            throw;
        }
    }

    public static string Sha256(byte[] content) => Convert.ToHexString(SHA256.HashData(content)).ToLowerInvariant();

    private static ModelManifest ReadManifest(byte[] json, string path)
    {
        // Format and version first, from the raw JSON: a newer file must say so even if the rest has changed shape.
        string? writer;
        try
        {
            using var document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 64 });
            JsonElement root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("format", out JsonElement format) ||
                format.ValueKind != JsonValueKind.String || format.GetString() != ModelManifest.FormatName)
            {
                throw ModelFileErrors.Unrecognized(path, $"its {ModelManifest.EntryName} does not declare the format '{ModelManifest.FormatName}'.");
            }
            writer = root.TryGetProperty("producer", out JsonElement producer) && producer.ValueKind == JsonValueKind.Object &&
                     producer.TryGetProperty("mlpTools", out JsonElement version) && version.ValueKind == JsonValueKind.String
                ? version.GetString() : null;
            if (!root.TryGetProperty("formatVersion", out JsonElement formatVersion) || !formatVersion.TryGetInt32(out int versionNumber) || versionNumber < 1)
            {
                throw ModelFileErrors.Corrupt(path, "its manifest has no valid formatVersion.");
            }
            if (versionNumber > ModelManifest.CurrentFormatVersion)
            {
                throw ModelFileErrors.NewerVersion(path, $"is in MlpTools model format version {versionNumber}, written by MlpTools {writer ?? "(unknown version)"}.");
            }
        }
        catch (JsonException e)
        {
            throw ModelFileErrors.Corrupt(path, $"its manifest is not valid JSON ({e.Message}).", e);
        }

        ModelManifest manifest;
        try
        {
            manifest = PersistenceJson.Deserialize<ModelManifest>(json);
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or ArgumentException or InvalidOperationException)
        {
            throw ModelFileErrors.Corrupt(path, $"its manifest does not have the expected fields ({e.Message}).", e);
        }
        if (manifest.Architecture is null)
        {
            throw ModelFileErrors.Corrupt(path, "its manifest has no architecture.");
        }
        manifest.Architecture.Validate(path, writer);
        if (manifest.Kind is not (ModelManifest.ModelKind or ModelManifest.CheckpointKind))
        {
            throw ModelFileErrors.NewerVersion(path, $"holds a '{manifest.Kind}', a kind of file this version does not know.");
        }
        if (manifest.Files is null || manifest.Files.Values.Any(v => v is null))
        {
            throw ModelFileErrors.Corrupt(path, "its manifest lists its entries without their SHA-256.");
        }
        RequireWellFormed(manifest.History, path);
        return manifest;
    }

    /// <summary>
    /// A history is shown and extended by later training, so each of its runs must be whole: a recipe the trainer would
    /// accept, the training data's fingerprint and epoch records without gaps.
    /// </summary>
    private static void RequireWellFormed(List<TrainingRun>? history, string path)
    {
        foreach (TrainingRun? run in history ?? new List<TrainingRun>())
        {
            if (run is not { Options: not null, TrainData.Sha256: not null, Epochs: not null } ||
                run.ValidationData is { Sha256: null } || run.Epochs.Any(e => e is not { ModelName: not null, Optimizer: not null }))
            {
                throw ModelFileErrors.Corrupt(path, "its training history has a run without its recipe, data fingerprint or epochs.");
            }
            try
            {
                run.Options.Validate();
            }
            catch (MlpToolsException e)
            {
                throw ModelFileErrors.Corrupt(path, $"its training history records a recipe the trainer refuses: {e.Message}", e);
            }
        }
    }

    private static void AddEntry(ZipArchive zip, string name, byte[] content, CompressionLevel level)
    {
        ZipArchiveEntry entry = zip.CreateEntry(name, level);
        // A fixed time stamp: the same model written twice gives the same bytes but for the manifest's 'created'.
        entry.LastWriteTime = new DateTimeOffset(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);
        using Stream target = entry.Open();
        target.Write(content);
    }
}
