using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Serialization;
using MlpTools.Core.Data;
using MlpTools.Core.Data.Images;
using MlpTools.Core.Data.Tabular;
using MlpTools.Core.Modeling;
using MlpTools.Core.Platform;
using MlpTools.Core.Training;
using TorchSharp;

namespace MlpTools.Core.Persistence;

/// <summary>
/// The JSON document at the head of an MlpTools model file ('mlptools-model.json'). The format is described in
/// docs/about_MlpTools_ModelFile.md; keep the two in step.
/// </summary>
internal sealed record ModelManifest
{
    public const string FormatName = "MlpTools.Model";
    /// <summary>Raised only when a reader of the previous version would misread a new file; adding optional fields does not raise it.</summary>
    public const int CurrentFormatVersion = 1;
    public const string EntryName = "mlptools-model.json";
    public const string WeightsEntry = "weights.safetensors";
    public const string ModelKind = "Model";
    public const string CheckpointKind = "Checkpoint";

    public string Format { get; init; } = FormatName;
    public int FormatVersion { get; init; } = CurrentFormatVersion;
    public string Kind { get; init; } = ModelKind;
    public DateTimeOffset Created { get; init; }
    public ProducerInfo? Producer { get; init; }
    public ArchitectureManifest? Architecture { get; init; }
    /// <summary>Every other entry of the zip and the SHA-256 of its bytes; a reader checks each one.</summary>
    public Dictionary<string, string> Files { get; init; } = new();
    public List<TrainingRun>? History { get; init; }
    public FinalMetrics? FinalMetrics { get; init; }
    /// <summary>Checkpoints only: what it takes to go on training.</summary>
    public CheckpointState? Training { get; init; }
}

/// <summary>What wrote the file: enough to rebuild the environment or to explain a difference later.</summary>
internal sealed record ProducerInfo(string MlpTools, string TorchSharp, string LibTorch, string DotNet, string OperatingSystem, int TorchThreads)
{
    public static ProducerInfo Current() => new(
        MlpToolsVersion,
        TorchRuntime.TorchSharpVersion,
        torch.__version__,
        RuntimeInformation.FrameworkDescription,
        RuntimeInformation.OSDescription,
        torch.get_num_threads());

    public static string MlpToolsVersion { get; } =
        typeof(ModelManifest).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? typeof(ModelManifest).Assembly.GetName().Version?.ToString() ?? "unknown";
}

/// <summary>The last epoch's figures, at the top level so they can be read without walking the history.</summary>
internal sealed record FinalMetrics(int Epoch, double Loss, double? TrainAccuracy, double? ValidationAccuracy);

/// <summary>
/// The manifest's "architecture" section: the model's name, seed and epochs, its MlpArchitecture in the file's field
/// names (<see cref="Of"/> and <see cref="ToMlpArchitecture"/> convert; shapes, widths and layer names are only ever
/// computed by MlpArchitecture), and its preprocessing. An open record: a field added later (dropout, initialisation, activation parameters, ...)
/// is written only when it differs from the behaviour of files without it, so older files keep their meaning.
/// A reader refuses a file whose architecture has a field it does not know, since ignoring it could change the
/// model's answers; fields elsewhere in the manifest that a reader does not know are ignored.
/// </summary>
internal sealed record ArchitectureManifest
{
    public string Name { get; init; } = "Mlp";
    public int InputSize { get; init; }
    public int[] HiddenSizes { get; init; } = Array.Empty<int>();
    public int OutputSize { get; init; }
    public Activation Activation { get; init; } = Activation.ReLU;
    /// <summary>The seed the weights were first drawn from (0 for a model imported from PyTorch or SafeTensors).</summary>
    public long Seed { get; init; }
    public int EpochsTrained { get; init; }
    // Written only when they differ from the defaults, so files of the notebook's network look as before.
    public double? Alpha { get; init; }
    public double? NegativeSlope { get; init; }
    public Initialization? Initialization { get; init; }
    public double? Dropout { get; init; }
    /// <summary>What the model learned from its data (columns, categories, standardisation, class or target names); absent for MNIST's reading.</summary>
    public PreprocessingManifest? Preprocessing { get; init; }

    /// <summary>Fields this version does not know; see the type's remarks.</summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Unknown { get; init; }

    public static ArchitectureManifest Of(MlpModel model) => new()
    {
        Name = model.Name,
        InputSize = model.InputSize,
        HiddenSizes = model.HiddenSizes.ToArray(),
        OutputSize = model.OutputSize,
        Activation = model.Activation,
        Seed = model.Seed,
        EpochsTrained = model.EpochsTrained,
        Alpha = NullIfDefault(model.Architecture.Activation.Alpha, ActivationSpec.ReLU.Alpha),
        NegativeSlope = NullIfDefault(model.Architecture.Activation.NegativeSlope, ActivationSpec.ReLU.NegativeSlope),
        Initialization = model.Initialization == Modeling.Initialization.KaimingNormal ? null : model.Initialization,
        Dropout = NullIfDefault(model.Dropout, 0),
        Preprocessing = PreprocessingManifest.Of(model),
    };

    private static double? NullIfDefault(double value, double defaultValue) => value == defaultValue ? null : value;

    /// <summary>The network as New-Mlp's parameters describe it.</summary>
    public MlpArchitecture ToMlpArchitecture() => new(InputSize, HiddenSizes ?? Array.Empty<int>(), OutputSize,
        new ActivationSpec(Activation, Alpha ?? ActivationSpec.ReLU.Alpha, NegativeSlope ?? ActivationSpec.ReLU.NegativeSlope),
        Initialization ?? Modeling.Initialization.KaimingNormal, Dropout ?? 0);

    /// <summary>
    /// Checks, before anything is built or inflated, every field as New-Mlp checks its parameters: a file saying what New-Mlp
    /// would refuse is damaged (ModelFileCorrupt), one describing a network too large to hold is ModelTooLarge.
    /// </summary>
    public void Validate(string path, string? writer)
    {
        if (Unknown is { Count: > 0 } unknown)
        {
            throw ModelFileErrors.NewerVersion(path,
                $"describes its network with {string.Join(", ", unknown.Keys.Select(k => $"'{k}'"))}, which this version does not know, " +
                $"(written by MlpTools {writer ?? "(unknown version)"}).");
        }
        if (string.IsNullOrEmpty(Name) || HiddenSizes is null || EpochsTrained < 0)
        {
            throw ModelFileErrors.Corrupt(path, "its architecture lacks a name or hidden layer sizes, or counts negative epochs.");
        }
        try
        {
            ToMlpArchitecture().Validate();
        }
        catch (MlpToolsException e) when (e.ErrorId != ErrorIds.ModelTooLarge)
        {
            throw ModelFileErrors.Corrupt(path, $"its architecture is impossible: {e.Message}", e);
        }
        if (Preprocessing is null)
        {
            return;
        }
        try
        {
            MlpModel.RequireFits(Preprocessing.ToPreprocessing(), ToMlpArchitecture());
        }
        catch (ArgumentException e)
        {
            throw ModelFileErrors.Corrupt(path, $"its preprocessing has {e.Message}.", e);
        }
        catch (MlpToolsException e)
        {
            throw ModelFileErrors.Corrupt(path, $"its preprocessing does not fit its layers: {e.Message}", e);
        }
    }

    /// <summary>A model of this architecture with fresh weights on <paramref name="device"/>, for a caller that loads stored ones into it.</summary>
    public MlpModel Build(ComputeDevice device = ComputeDevice.Cpu)
    {
        var model = MlpModel.Create(Name, ToMlpArchitecture(), Seed, Preprocessing?.ToPreprocessing(), device);
        model.EpochsTrained = EpochsTrained;
        return model;
    }
}

/// <summary>
/// A model's <see cref="Modeling.Preprocessing"/> as the manifest stores it. Written only when it differs from what a model of
/// the same sizes made without data does (MNIST's reading), so files of MNIST models stay as MlpTools 0.1 wrote them, and
/// a reader that does not know this field refuses a model whose inputs it would misread.
/// </summary>
internal sealed record PreprocessingManifest
{
    public MlpTask Task { get; init; }
    public string[]? ClassNames { get; init; }
    public string[]? TargetNames { get; init; }
    public ColumnManifest[]? Columns { get; init; }
    public int? ImageHeight { get; init; }
    public int? ImageWidth { get; init; }
    public ImagePreparation? ImagePreparation { get; init; }
    public float[]? FeatureMean { get; init; }
    public float[]? FeatureScale { get; init; }
    public float[]? TargetMean { get; init; }
    public float[]? TargetScale { get; init; }

    internal sealed record ColumnManifest(string Name, ColumnKind Kind, string[]? Categories);

    public static PreprocessingManifest? Of(MlpModel model)
    {
        var p = model.Preprocessing;
        if ((p.ReadsImages && p.Task == MlpTask.Classification && p.ImagePreparation == Data.Images.ImagePreparation.Digit &&
             p.ClassNames.SequenceEqual(MlpDataset.IndexNames(model.OutputSize)) && SameSquare(p, model.InputSize)))
        {
            return null;
        }
        return new PreprocessingManifest
        {
            Task = p.Task,
            ClassNames = p.Task == MlpTask.Classification ? p.ClassNames.ToArray() : null,
            TargetNames = p.Task == MlpTask.Regression ? p.TargetNames.ToArray() : null,
            Columns = p.Schema?.Columns.Select(c => new ColumnManifest(c.Name, c.Kind, c.Kind == ColumnKind.Categorical ? c.Categories.ToArray() : null)).ToArray(),
            ImageHeight = p.ReadsImages ? p.ImageHeight : null,
            ImageWidth = p.ReadsImages ? p.ImageWidth : null,
            ImagePreparation = p.ReadsImages ? p.ImagePreparation : null,
            FeatureMean = p.FeatureMean,
            FeatureScale = p.FeatureScale,
            TargetMean = p.TargetMean,
            TargetScale = p.TargetScale,
        };
    }

    private static bool SameSquare(Modeling.Preprocessing p, int inputSize)
    {
        var sizes = Modeling.Preprocessing.ForSizes(inputSize, 1);
        return p.ImageHeight == sizes.ImageHeight && p.ImageWidth == sizes.ImageWidth;
    }

    /// <summary>The preprocessing this describes; throws ArgumentException when a field is impossible (the caller reports the file as damaged).</summary>
    public Modeling.Preprocessing ToPreprocessing()
    {
        var schema = Columns is null ? null : new FeatureSchema(Columns.Select(c =>
            new FeatureColumn(Require(c.Name, "a column name"), c.Kind, c.Kind == ColumnKind.Categorical ? RequireNames(c.Categories, "categories") : Array.Empty<string>())).ToArray());
        int inputs = schema?.EncodedWidth ?? 0;
        int outputs = Task == MlpTask.Regression ? RequireNames(TargetNames, "target names").Length : RequireNames(ClassNames, "class names").Length;
        RequireVector(FeatureMean, inputs, schema is not null, "feature means", positive: false);
        RequireVector(FeatureScale, inputs, schema is not null, "feature scales", positive: true);
        RequireVector(TargetMean, outputs, Task == MlpTask.Regression, "target means", positive: false);
        RequireVector(TargetScale, outputs, Task == MlpTask.Regression, "target scales", positive: true);
        if (ImageHeight < 0 || ImageWidth < 0 || (long)(ImageHeight ?? 0) * (ImageWidth ?? 0) > int.MaxValue)
        {
            throw new ArgumentException($"an image size of {ImageHeight}x{ImageWidth}");
        }
        if (!Enum.IsDefined(Task) || (ImagePreparation is { } preparation && !Enum.IsDefined(preparation)) ||
            (Columns?.Any(c => !Enum.IsDefined(c.Kind)) ?? false))
        {
            throw new ArgumentException("a task, column kind or image preparation this version does not know");
        }
        return new Modeling.Preprocessing
        {
            Task = Task,
            ClassNames = ClassNames ?? Array.Empty<string>(),
            TargetNames = TargetNames ?? Array.Empty<string>(),
            Schema = schema,
            ImageHeight = ImageHeight ?? 0,
            ImageWidth = ImageWidth ?? 0,
            ImagePreparation = ImagePreparation ?? Data.Images.ImagePreparation.Digit,
            FeatureMean = FeatureMean,
            FeatureScale = FeatureScale,
            TargetMean = TargetMean,
            TargetScale = TargetScale,
            FromData = true,
        };
    }

    private static string Require(string? value, string what) => string.IsNullOrEmpty(value) ? throw new ArgumentException($"an empty {what}") : value;

    private static string[] RequireNames(string[]? names, string what)
    {
        if (names is null || names.Length == 0 || names.Any(string.IsNullOrEmpty) || names.Distinct(StringComparer.Ordinal).Count() != names.Length)
        {
            throw new ArgumentException($"missing, empty or repeated {what}");
        }
        return names;
    }

    private static void RequireVector(float[]? values, int length, bool allowed, string what, bool positive)
    {
        if (values is null)
        {
            return;
        }
        if (!allowed || values.Length != length || values.Any(v => !float.IsFinite(v) || (positive && v <= 0)))
        {
            throw new ArgumentException($"{what} that do not fit the model ({values.Length} values, {length} expected, all finite{(positive ? " and positive" : "")})");
        }
    }
}

/// <summary>A checkpoint's record of the run it was cut from.</summary>
internal sealed record CheckpointState
{
    public const string OptimizerEntry = "optimizer.bin";
    public const string RandomStateEntry = "random-state.safetensors";
    /// <summary>The session's weight snapshots: "lastGood.lin_1.weight", ... and, once early stopping has seen one, "best.lin_1.weight", ...</summary>
    public const string SessionWeightsEntry = "session-weights.safetensors";

    /// <summary>The run's recipe, as TrainingOptions' JSON; every field must be understood to resume.</summary>
    public JsonElement Options { get; init; }
    /// <summary>Epochs of this run finished when the checkpoint was written.</summary>
    public int EpochsCompleted { get; init; }
    public DatasetFingerprint? TrainData { get; init; }
    public DatasetFingerprint? ValidationData { get; init; }
    /// <summary>The optimiser's class (TorchSharp's name, e.g. Adam); its state is in optimizer.bin.</summary>
    public string Optimizer { get; init; } = "";
    /// <summary>The rest of the run's state (absent from checkpoints written before early stopping and schedules could be checkpointed).</summary>
    public SessionState? Session { get; init; }
}

/// <summary>What a training session has changed besides weights, optimiser and generators, as a checkpoint stores it.</summary>
internal sealed record SessionState
{
    /// <summary>The learning rate the next epoch trains with, as the schedule left it.</summary>
    public double LearningRate { get; init; }
    public ImprovementState? Plateau { get; init; }
    public ImprovementState? EarlyStopping { get; init; }
    /// <summary>True when early stopping ended the run before its last epoch: resuming it trains no further.</summary>
    public bool Stopped { get; init; }
}
