using System.Reflection;

namespace MlpTools.Core.Platform;

/// <summary>
/// Every error id MlpTools gives, grouped by what it is about, each with the one kind of failure it is (the category
/// users see). Scripts match these ids (<c>$_.FullyQualifiedErrorId -like 'Id,*'</c>), so an id, once given, keeps its
/// name and kind. docs/about_MlpTools_Errors.md has a row for each (ErrorCatalogueTests holds the two together).
/// </summary>
public static class ErrorIds
{
    // A path to read or write, whatever the file holds.
    [Kind(FailureKind.InvalidArgument)] public const string PathIsFolder = nameof(PathIsFolder);
    [Kind(FailureKind.InvalidArgument)] public const string NotARegularFile = nameof(NotARegularFile);
    [Kind(FailureKind.InvalidArgument)] public const string SymbolicLinkLoop = nameof(SymbolicLinkLoop);
    [Kind(FailureKind.ObjectNotFound)] public const string FolderNotFound = nameof(FolderNotFound);
    [Kind(FailureKind.WriteError)] public const string FileWriteFailed = nameof(FileWriteFailed);

    // Native libraries, and what nobody foresaw.
    [Kind(FailureKind.NotInstalled)] public const string NativePackageMissing = nameof(NativePackageMissing);
    [Kind(FailureKind.NotInstalled)] public const string TorchNativeLoadFailed = nameof(TorchNativeLoadFailed);
    [Kind(FailureKind.NotInstalled)] public const string ImagingUnavailable = nameof(ImagingUnavailable);
    [Kind(FailureKind.NotInstalled)] public const string OnnxRuntimeLoadFailed = nameof(OnnxRuntimeLoadFailed);
    [Kind(FailureKind.NotSpecified)] public const string UnexpectedEngineFailure = nameof(UnexpectedEngineFailure);

    // MNIST and its IDX files.
    [Kind(FailureKind.ObjectNotFound)] public const string MnistFileNotFound = nameof(MnistFileNotFound);
    [Kind(FailureKind.ConnectionError)] public const string MnistDownloadFailed = nameof(MnistDownloadFailed);
    [Kind(FailureKind.ObjectNotFound)] public const string IdxFileNotFound = nameof(IdxFileNotFound);
    [Kind(FailureKind.ResourceUnavailable)] public const string IdxFileReadFailed = nameof(IdxFileReadFailed);
    [Kind(FailureKind.InvalidData)] public const string IdxFileTruncated = nameof(IdxFileTruncated);
    [Kind(FailureKind.InvalidData)] public const string IdxGzipInvalid = nameof(IdxGzipInvalid);
    [Kind(FailureKind.InvalidData)] public const string IdxHeaderInvalid = nameof(IdxHeaderInvalid);

    // Datasets, whatever they were read from.
    [Kind(FailureKind.ObjectNotFound)] public const string DatasetPathNotFound = nameof(DatasetPathNotFound);
    [Kind(FailureKind.InvalidData)] public const string DatasetCountMismatch = nameof(DatasetCountMismatch);
    [Kind(FailureKind.InvalidArgument)] public const string DatasetEmpty = nameof(DatasetEmpty);
    [Kind(FailureKind.InvalidArgument)] public const string DatasetUnlabelled = nameof(DatasetUnlabelled);
    [Kind(FailureKind.InvalidArgument)] public const string DatasetNotImages = nameof(DatasetNotImages);
    [Kind(FailureKind.InvalidArgument)] public const string DatasetIndexOutOfRange = nameof(DatasetIndexOutOfRange);
    [Kind(FailureKind.InvalidArgument)] public const string SplitFractionInvalid = nameof(SplitFractionInvalid);
    [Kind(FailureKind.InvalidArgument)] public const string SplitStratifyUnsupported = nameof(SplitStratifyUnsupported);

    // Image files and image folders read into a dataset.
    [Kind(FailureKind.InvalidArgument)] public const string ImageSizeInvalid = nameof(ImageSizeInvalid);
    [Kind(FailureKind.ObjectNotFound)] public const string ImageFileNotFound = nameof(ImageFileNotFound);
    [Kind(FailureKind.ResourceUnavailable)] public const string ImageFileUnreadable = nameof(ImageFileUnreadable);
    [Kind(FailureKind.InvalidData)] public const string ImageFileInvalid = nameof(ImageFileInvalid);
    [Kind(FailureKind.InvalidData)] public const string ImageTooLarge = nameof(ImageTooLarge);
    [Kind(FailureKind.InvalidData)] public const string ImageFolderEmpty = nameof(ImageFolderEmpty);
    [Kind(FailureKind.InvalidData)] public const string ImageFolderClassEmpty = nameof(ImageFolderClassEmpty);
    [Kind(FailureKind.InvalidData)] public const string ImageFolderSingleClass = nameof(ImageFolderSingleClass);
    [Kind(FailureKind.InvalidArgument)] public const string ImageFolderTooLarge = nameof(ImageFolderTooLarge);

    // Tables: CSV files and PowerShell objects, their rows, cells and columns.
    [Kind(FailureKind.ObjectNotFound)] public const string CsvFileNotFound = nameof(CsvFileNotFound);
    [Kind(FailureKind.InvalidArgument)] public const string CsvDelimiterInvalid = nameof(CsvDelimiterInvalid);
    [Kind(FailureKind.InvalidData)] public const string CsvHeaderInvalid = nameof(CsvHeaderInvalid);
    [Kind(FailureKind.InvalidData)] public const string CsvRowRagged = nameof(CsvRowRagged);
    [Kind(FailureKind.InvalidData)] public const string CsvQuoteInvalid = nameof(CsvQuoteInvalid);
    [Kind(FailureKind.InvalidData)] public const string DataEmpty = nameof(DataEmpty);
    [Kind(FailureKind.InvalidData)] public const string DataTooLarge = nameof(DataTooLarge);
    [Kind(FailureKind.InvalidData)] public const string DataValueMissing = nameof(DataValueMissing);
    [Kind(FailureKind.InvalidData)] public const string DataValueNotNumeric = nameof(DataValueNotNumeric);
    [Kind(FailureKind.InvalidArgument)] public const string DataColumnNotFound = nameof(DataColumnNotFound);
    [Kind(FailureKind.InvalidArgument)] public const string DataColumnConflict = nameof(DataColumnConflict);
    [Kind(FailureKind.InvalidArgument)] public const string LabelColumnNotFound = nameof(LabelColumnNotFound);
    [Kind(FailureKind.InvalidData)] public const string LabelSingleClass = nameof(LabelSingleClass);
    [Kind(FailureKind.InvalidData)] public const string TargetNotNumeric = nameof(TargetNotNumeric);
    [Kind(FailureKind.InvalidData)] public const string CategoryCountTooLarge = nameof(CategoryCountTooLarge);
    [Kind(FailureKind.InvalidData)] public const string CategoryUnseen = nameof(CategoryUnseen);
    [Kind(FailureKind.InvalidData)] public const string FeatureMissing = nameof(FeatureMissing);
    [Kind(FailureKind.InvalidData)] public const string FeatureSchemaInvalid = nameof(FeatureSchemaInvalid);

    // Models: their architecture and their use.
    [Kind(FailureKind.InvalidArgument)] public const string ModelTooLarge = nameof(ModelTooLarge);
    [Kind(FailureKind.InvalidArgument)] public const string ModelSizeInvalid = nameof(ModelSizeInvalid);
    [Kind(FailureKind.InvalidArgument)] public const string ModelDropoutInvalid = nameof(ModelDropoutInvalid);
    [Kind(FailureKind.InvalidArgument)] public const string ModelActivationInvalid = nameof(ModelActivationInvalid);
    [Kind(FailureKind.InvalidArgument)] public const string ModelInitializationInvalid = nameof(ModelInitializationInvalid);
    [Kind(FailureKind.ResourceUnavailable)] public const string ModelAllocationFailed = nameof(ModelAllocationFailed);
    [Kind(FailureKind.InvalidOperation)] public const string ModelInUse = nameof(ModelInUse);
    [Kind(FailureKind.InvalidOperation)] public const string ModelDisposed = nameof(ModelDisposed);
    [Kind(FailureKind.InvalidOperation)] public const string ModelScoringOnly = nameof(ModelScoringOnly);

    // A model and the data given to it.
    [Kind(FailureKind.InvalidArgument)] public const string ModelTaskMismatch = nameof(ModelTaskMismatch);
    [Kind(FailureKind.InvalidArgument)] public const string ModelDataKindMismatch = nameof(ModelDataKindMismatch);
    [Kind(FailureKind.InvalidArgument)] public const string ModelInputSizeMismatch = nameof(ModelInputSizeMismatch);
    [Kind(FailureKind.InvalidArgument)] public const string ModelOutputSizeMismatch = nameof(ModelOutputSizeMismatch);
    [Kind(FailureKind.InvalidArgument)] public const string ModelFeatureMismatch = nameof(ModelFeatureMismatch);
    [Kind(FailureKind.InvalidArgument)] public const string ModelClassUnknown = nameof(ModelClassUnknown);
    [Kind(FailureKind.InvalidArgument)] public const string ModelTargetMismatch = nameof(ModelTargetMismatch);

    // Model files (MlpTools, PyTorch, SafeTensors, ONNX).
    [Kind(FailureKind.ObjectNotFound)] public const string ModelFileNotFound = nameof(ModelFileNotFound);
    [Kind(FailureKind.ResourceExists)] public const string ModelFileExists = nameof(ModelFileExists);
    [Kind(FailureKind.ResourceUnavailable)] public const string ModelFileReadFailed = nameof(ModelFileReadFailed);
    [Kind(FailureKind.InvalidData)] public const string ModelFileEmpty = nameof(ModelFileEmpty);
    [Kind(FailureKind.InvalidData)] public const string ModelFileUnrecognized = nameof(ModelFileUnrecognized);
    [Kind(FailureKind.InvalidData)] public const string ModelFileCorrupt = nameof(ModelFileCorrupt);
    [Kind(FailureKind.InvalidData)] public const string ModelFileVersionUnsupported = nameof(ModelFileVersionUnsupported);
    [Kind(FailureKind.InvalidData)] public const string ModelFileUnsafe = nameof(ModelFileUnsafe);
    [Kind(FailureKind.InvalidData)] public const string ModelStateDictInvalid = nameof(ModelStateDictInvalid);
    [Kind(FailureKind.InvalidData)] public const string ModelWeightsNotFinite = nameof(ModelWeightsNotFinite);
    [Kind(FailureKind.InvalidArgument)] public const string ModelActivationRequired = nameof(ModelActivationRequired);
    [Kind(FailureKind.InvalidData)] public const string OnnxModelUnsupported = nameof(OnnxModelUnsupported);
    [Kind(FailureKind.InvalidResult)] public const string OnnxScoringFailed = nameof(OnnxScoringFailed);

    // Training checkpoints.
    [Kind(FailureKind.ResourceExists)] public const string CheckpointPathOccupied = nameof(CheckpointPathOccupied);
    [Kind(FailureKind.ObjectNotFound)] public const string CheckpointNotFound = nameof(CheckpointNotFound);
    [Kind(FailureKind.InvalidArgument)] public const string NotACheckpoint = nameof(NotACheckpoint);
    [Kind(FailureKind.InvalidOperation)] public const string CheckpointOptimizerUnsupported = nameof(CheckpointOptimizerUnsupported);
    [Kind(FailureKind.InvalidArgument)] public const string CheckpointDatasetMismatch = nameof(CheckpointDatasetMismatch);

    // Training.
    [Kind(FailureKind.InvalidArgument)] public const string TrainingOptionInvalid = nameof(TrainingOptionInvalid);
    [Kind(FailureKind.InvalidArgument)] public const string TrainingOptionIgnored = nameof(TrainingOptionIgnored);
    [Kind(FailureKind.InvalidOperation)] public const string TrainingDiverged = nameof(TrainingDiverged);
    [Kind(FailureKind.InvalidArgument)] public const string ValidationFractionInvalid = nameof(ValidationFractionInvalid);
    [Kind(FailureKind.InvalidArgument)] public const string ValidationSourceAmbiguous = nameof(ValidationSourceAmbiguous);
    [Kind(FailureKind.InvalidArgument)] public const string EarlyStoppingNeedsValidation = nameof(EarlyStoppingNeedsValidation);

    // Measuring a model: accuracy and the gradient check.
    [Kind(FailureKind.InvalidResult)] public const string AccuracyBelowMinimum = nameof(AccuracyBelowMinimum);
    [Kind(FailureKind.InvalidArgument)] public const string AccuracyNotApplicable = nameof(AccuracyNotApplicable);
    [Kind(FailureKind.InvalidArgument)] public const string GradientCheckTaskUnsupported = nameof(GradientCheckTaskUnsupported);
    [Kind(FailureKind.InvalidArgument)] public const string GradientCheckOptionInvalid = nameof(GradientCheckOptionInvalid);
    [Kind(FailureKind.InvalidArgument)] public const string GradientCheckMethodInvalid = nameof(GradientCheckMethodInvalid);

    // Pictures drawn from results (digit grids, confusion matrices, training curves) and what is piped to draw them.
    [Kind(FailureKind.InvalidArgument)] public const string ImageInputEmpty = nameof(ImageInputEmpty);
    [Kind(FailureKind.InvalidArgument)] public const string ImageInputInvalid = nameof(ImageInputInvalid);
    [Kind(FailureKind.InvalidArgument)] public const string ImageInputExtra = nameof(ImageInputExtra);
    [Kind(FailureKind.InvalidArgument)] public const string PredictionDatasetMismatch = nameof(PredictionDatasetMismatch);
    [Kind(FailureKind.ResourceUnavailable)] public const string ImageAllocationFailed = nameof(ImageAllocationFailed);

    // Sweeps: the space, its result file and the sessions trials run in.
    [Kind(FailureKind.InvalidResult)] public const string SweepTrialFailed = nameof(SweepTrialFailed);
    [Kind(FailureKind.ResourceExists)] public const string SweepResultFileExists = nameof(SweepResultFileExists);
    [Kind(FailureKind.WriteError)] public const string SweepResultFileWriteFailed = nameof(SweepResultFileWriteFailed);
    [Kind(FailureKind.InvalidData)] public const string SweepResultFileMismatch = nameof(SweepResultFileMismatch);
    [Kind(FailureKind.InvalidData)] public const string SweepResultFileDamaged = nameof(SweepResultFileDamaged);
    [Kind(FailureKind.InvalidData)] public const string SweepDatasetPayloadInvalid = nameof(SweepDatasetPayloadInvalid);
    [Kind(FailureKind.InvalidArgument)] public const string SweepSpaceEmpty = nameof(SweepSpaceEmpty);
    [Kind(FailureKind.InvalidArgument)] public const string SweepRangeInvalid = nameof(SweepRangeInvalid);
    [Kind(FailureKind.InvalidArgument)] public const string SweepParameterValueInvalid = nameof(SweepParameterValueInvalid);
    [Kind(FailureKind.InvalidArgument)] public const string SweepParameterDuplicate = nameof(SweepParameterDuplicate);
    [Kind(FailureKind.InvalidArgument)] public const string SweepRangeNeedsCount = nameof(SweepRangeNeedsCount);
    [Kind(FailureKind.InvalidArgument)] public const string SweepSpaceTooLarge = nameof(SweepSpaceTooLarge);
    [Kind(FailureKind.InvalidOperation)] public const string SweepSessionVersionMismatch = nameof(SweepSessionVersionMismatch);
    [Kind(FailureKind.ConnectionError)] public const string SweepSessionUnavailable = nameof(SweepSessionUnavailable);
    [Kind(FailureKind.InvalidArgument)] public const string SweepResumeWithoutResultPath = nameof(SweepResumeWithoutResultPath);
    [Kind(FailureKind.ResourceUnavailable)] public const string SweepNoWorkerLeft = nameof(SweepNoWorkerLeft);
    [Kind(FailureKind.InvalidArgument)] public const string SweepParameterUnknown = nameof(SweepParameterUnknown);

    // Devices.
    [Kind(FailureKind.NotInstalled)] public const string DeviceUnavailable = nameof(DeviceUnavailable);

    private static readonly Lazy<IReadOnlyDictionary<string, FailureKind>> Kinds = new(() =>
        typeof(ErrorIds).GetFields(BindingFlags.Public | BindingFlags.Static).Where(field => field.IsLiteral).ToDictionary(
            field => (string)field.GetRawConstantValue()!,
            field => field.GetCustomAttribute<KindAttribute>()?.Kind ?? throw new InvalidOperationException($"Error id {field.Name} has no [Kind].")));

    /// <summary>Every id with its kind.</summary>
    public static IReadOnlyDictionary<string, FailureKind> All => Kinds.Value;

    /// <summary>The kind of failure <paramref name="errorId"/> is; an id outside the catalogue is a programming error.</summary>
    public static FailureKind KindOf(string errorId) => Kinds.Value.TryGetValue(errorId, out FailureKind kind)
        ? kind
        : throw new ArgumentException($"'{errorId}' is not an error id of {nameof(ErrorIds)}.", nameof(errorId));

    [AttributeUsage(AttributeTargets.Field)]
    private sealed class KindAttribute(FailureKind kind) : Attribute
    {
        public FailureKind Kind { get; } = kind;
    }
}
