using System.IO.Compression;
using System.Text.Json;
using MlpTools.Core.Modeling;
using MlpTools.Core.Persistence.Onnx;
using MlpTools.Core.Platform;
using static TorchSharp.torch;

namespace MlpTools.Core.Persistence;

/// <summary>Saving models to files and reading them back, in MlpTools' own format, PyTorch's, SafeTensors and ONNX.</summary>
public static class ModelFiles
{
    private const long MaxFileBytes = int.MaxValue;

    /// <summary>
    /// Writes <paramref name="model"/> to <paramref name="path"/> atomically: the old file, if any, stays intact
    /// until the new one is complete. <see cref="ModelFileFormat.Auto"/> chooses by extension (<see cref="FormatForPath"/>).
    /// </summary>
    public static void Export(MlpModel model, string path, ModelFileFormat format = ModelFileFormat.Auto, bool overwrite = false)
    {
        string fullPath = Path.GetFullPath(path);
        if (!overwrite && RegularFile.Exists(fullPath))
        {
            throw ModelFileErrors.Exists(fullPath);
        }
        if (format == ModelFileFormat.Auto)
        {
            format = FormatForPath(fullPath);
        }
        model.RequireNetwork("export");
        TorchRuntime.EnsureAvailable();
        using var lease = model.Acquire("export");
        AtomicFile.Write(fullPath, stream =>
        {
            switch (format)
            {
                case ModelFileFormat.PyTorch:
                    StateDicts.WritePyTorch(model, stream);
                    break;
                case ModelFileFormat.SafeTensors:
                    // The architecture goes into the metadata, so that Import-Mlp need not be told the activation.
                    StateDicts.WriteSafeTensors(model.Network.state_dict(), stream, new Dictionary<string, string>
                    {
                        ["format"] = "pt",
                        [StateDicts.ArchitectureMetadataKey] = System.Text.Encoding.UTF8.GetString(PersistenceJson.Serialize(ArchitectureManifest.Of(model))),
                    });
                    break;
                case ModelFileFormat.Onnx:
                    OnnxExport.Write(model, stream);
                    break;
                default:
                    MlpFile.Write(stream, model);
                    break;
            }
        }, refuseExisting: overwrite ? null : ModelFileErrors.Exists, replaceReadOnly: overwrite);
    }

    /// <summary>The format a path's extension suggests: .pt and .pth are PyTorch, .safetensors SafeTensors, .onnx ONNX, anything else MlpTools.</summary>
    public static ModelFileFormat FormatForPath(string path) => Path.GetExtension(path).ToLowerInvariant() switch
    {
        ".pt" or ".pth" => ModelFileFormat.PyTorch,
        ".safetensors" => ModelFileFormat.SafeTensors,
        ".onnx" => ModelFileFormat.Onnx,
        _ => ModelFileFormat.MlpTools,
    };

    /// <summary>
    /// Reads a model. For PyTorch and SafeTensors files, which hold weights only, the layer sizes come from the weights'
    /// shapes and the activation from the file's metadata (Export-Mlp records the architecture in SafeTensors files) or
    /// from <paramref name="activation"/>, which is required when the file does not say and takes precedence when it does.
    /// The model is made on <paramref name="device"/>; one from an ONNX file is scored by ONNX Runtime on the CPU.
    /// </summary>
    public static MlpModel Import(string path, ModelFileFormat format = ModelFileFormat.Auto, Activation? activation = null, string? name = null,
        CancellationToken cancel = default, ComputeDevice device = ComputeDevice.Cpu)
    {
        // Refused before the file is read.
        ComputeDevices.Require(device);
        string fullPath = Path.GetFullPath(path);
        byte[] content = ReadWhole(fullPath, cancel);
        ModelFileFormat detected = Detect(content, fullPath);
        if (format != ModelFileFormat.Auto && format != detected)
        {
            throw ModelFileErrors.Unrecognized(fullPath, $"it was read as {format} but its content is {Describe(detected)}. Use '-Format {detected}' or '-Format Auto'.");
        }
        string sha256 = MlpFile.Sha256(content);
        if (detected == ModelFileFormat.Onnx)
        {
            // Scored by ONNX Runtime alone: libtorch is never loaded for it.
            return ImportOnnx(content, fullPath, name ?? Path.GetFileNameWithoutExtension(fullPath), sha256);
        }
        TorchRuntime.EnsureAvailable();
        using var stream = new MemoryStream(content, writable: false);

        if (detected == ModelFileFormat.MlpTools)
        {
            var contents = MlpFile.Read(stream, fullPath);
            var manifest = contents.Manifest;
            var origin = new ModelOrigin(fullPath, detected, manifest.FormatVersion, manifest.Created, manifest.Producer?.MlpTools, manifest.Producer?.TorchSharp, sha256);
            return MlpFile.ToModel(contents, fullPath, origin, name, device);
        }

        MlpModel? model = null;
        try
        {
            using (NewDisposeScope())
            {
                // The architecture is settled and checked from the tensors' shapes before any of their values is read.
                ArchitectureManifest? architecture = null;
                void Vet(IReadOnlyList<TensorLayout> layouts, IReadOnlyDictionary<string, string> metadata) =>
                    architecture = ArchitectureOf(layouts, metadata, activation, name ?? Path.GetFileNameWithoutExtension(fullPath), fullPath);
                var tensors = detected == ModelFileFormat.PyTorch ? StateDicts.ReadPyTorch(stream, fullPath, Vet) : StateDicts.ReadSafeTensors(stream, fullPath, Vet);
                model = architecture!.Build(device);
                StateDicts.Load(model, tensors, fullPath);
            }
            model.History.Restore(Array.Empty<TrainingRun>(), new ModelOrigin(fullPath, detected, null, null, null, null, sha256));
            return model;
        }
        catch
        {
            model?.Dispose();
            throw;
        }
    }

    private static MlpModel ImportOnnx(byte[] content, string path, string name, string sha256)
    {
        var info = OnnxFile.Read(content, path, name);
        var scorer = OnnxScorer.Create(content, info.Signature, path);
        try
        {
            var architecture = info.Architecture;
            var preprocessing = architecture.Preprocessing?.ToPreprocessing() ?? Preprocessing.ForSizes(architecture.InputSize, architecture.OutputSize);
            var model = MlpModel.FromOnnx(name, architecture.ToMlpArchitecture(), preprocessing, architecture.EpochsTrained, scorer);
            string? writer = info.Producer == "MlpTools" ? info.ProducerVersion : null;
            model.History.Restore(Array.Empty<TrainingRun>(), new ModelOrigin(path, ModelFileFormat.Onnx, (int)info.Opset, null, writer, null, sha256));
            return model;
        }
        catch
        {
            scorer.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The network a state_dict's tensors describe, with the activation (and its parameters, dropout, initialisation) from
    /// the architecture Export-Mlp recorded in the metadata, or from the caller.
    /// </summary>
    private static ArchitectureManifest ArchitectureOf(IReadOnlyList<TensorLayout> layouts, IReadOnlyDictionary<string, string> metadata,
        Activation? activation, string name, string path)
    {
        var (input, hidden, output) = StateDicts.InferLayers(layouts, path);
        // The seed is 0 unless the file says otherwise: a state_dict does not say how its weights began.
        var architecture = new ArchitectureManifest { InputSize = input, HiddenSizes = hidden, OutputSize = output };
        if (metadata.TryGetValue(StateDicts.ArchitectureMetadataKey, out string? json))
        {
            ArchitectureManifest recorded;
            try
            {
                recorded = PersistenceJson.Deserialize<ArchitectureManifest>(System.Text.Encoding.UTF8.GetBytes(json));
            }
            catch (Exception e) when (e is JsonException or NotSupportedException or ArgumentException or InvalidOperationException)
            {
                throw ModelFileErrors.Corrupt(path, $"its recorded architecture is not valid ({e.Message}).", e);
            }
            if (recorded.InputSize != input || recorded.OutputSize != output || recorded.HiddenSizes is null || !recorded.HiddenSizes.SequenceEqual(hidden))
            {
                throw ModelFileErrors.Corrupt(path, $"its recorded architecture does not match the shapes of its weights ({string.Join('-', new[] { input }.Concat(hidden).Append(output))}).");
            }
            architecture = recorded with { EpochsTrained = 0 };
        }
        else if (activation is null)
        {
            throw ModelFileErrors.ActivationRequired(path);
        }
        architecture = architecture with { Name = name, Activation = activation ?? architecture.Activation };
        architecture.Validate(path, null);
        return architecture;
    }

    /// <summary>What a file holds, judged from its content alone.</summary>
    public static ModelFileFormat Detect(string path)
    {
        string fullPath = Path.GetFullPath(path);
        return Detect(ReadWhole(fullPath, CancellationToken.None), fullPath);
    }

    internal static ModelFileFormat Detect(byte[] content, string path)
    {
        if (content.Length == 0)
        {
            throw ModelFileErrors.Empty(path);
        }
        if (content.Length >= 4 && content[0] == 'P' && content[1] == 'K' && content[2] == 3 && content[3] == 4)
        {
            try
            {
                using var zip = new ZipArchive(new MemoryStream(content, writable: false), ZipArchiveMode.Read);
                if (zip.GetEntry(ModelManifest.EntryName) is not null)
                {
                    return ModelFileFormat.MlpTools;
                }
                if (zip.Entries.Any(e => e.Name.EndsWith("data.pkl", StringComparison.Ordinal)))
                {
                    return ModelFileFormat.PyTorch;
                }
                throw ModelFileErrors.Unrecognized(path, "it is a zip archive, but neither an MlpTools model file nor a torch.save file.");
            }
            catch (InvalidDataException e)
            {
                throw ModelFileErrors.Corrupt(path, $"it starts as a zip archive (as MlpTools and PyTorch files do) but its zip structure cannot be read ({e.Message}). The file may have been cut short.", e);
            }
        }
        if (StateDicts.LooksLikeSafeTensors(content, content.Length))
        {
            return ModelFileFormat.SafeTensors;
        }
        if (OnnxFile.LooksLikeOnnx(content) || Path.GetExtension(path).Equals(".onnx", StringComparison.OrdinalIgnoreCase))
        {
            // ONNX has no magic number: a protobuf starting with ir_version, or a .onnx file, is read (and vetted) as ONNX.
            return ModelFileFormat.Onnx;
        }
        if (content.Length >= 2 && content[0] == 0x80 && content[1] is >= 2 and <= 5)
        {
            throw ModelFileErrors.Unrecognized(path,
                "it is a bare pickle, as torch.save wrote before PyTorch 1.6. Load it in PyTorch and save it again with torch.save(model.state_dict(), path).");
        }
        throw ModelFileErrors.Unrecognized(path, "its content is neither a zip archive nor a SafeTensors header.");
    }

    private static string Describe(ModelFileFormat format) => format switch
    {
        ModelFileFormat.MlpTools => "an MlpTools model file",
        ModelFileFormat.PyTorch => "a PyTorch state_dict",
        ModelFileFormat.Onnx => "an ONNX model",
        _ => "a SafeTensors file",
    };

    /// <summary>
    /// The whole file, read in chunks that <paramref name="cancel"/> can stop between; only a regular file is opened
    /// (a FIFO, a device or a link loop is refused first). <paramref name="notFound"/> replaces ModelFileNotFound.
    /// </summary>
    internal static byte[] ReadWhole(string fullPath, CancellationToken cancel, Func<MlpToolsException>? notFound = null)
    {
        try
        {
            using var file = RegularFile.OpenRead(fullPath, notFound ?? (() => ModelFileErrors.NotFound(fullPath)));
            if (file.Length > MaxFileBytes)
            {
                throw ModelFileErrors.Unrecognized(fullPath, $"it is {file.Length} bytes, larger than any model MlpTools can hold.");
            }
            var content = new byte[file.Length];
            if (RegularFile.ReadChunked(file, content, cancel) < content.Length)
            {
                throw new IOException("the file became shorter while it was read.");
            }
            return content;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new MlpToolsException(ErrorIds.ModelFileReadFailed,
                $"Could not read '{fullPath}': {e.Message}", fullPath, e);
        }
    }
}
