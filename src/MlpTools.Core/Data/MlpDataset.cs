using MlpTools.Core.Data.Images;
using MlpTools.Core.Data.Tabular;
using MlpTools.Core.Platform;

namespace MlpTools.Core.Data;

public enum MnistSplit
{
    Train,
    Test,
}

/// <summary>What a dataset's answers are: classes to pick from, or numbers to estimate.</summary>
public enum MlpTask
{
    Classification,
    Regression,
}

/// <summary>
/// Examples to train on, test on or predict: a feature vector each, with a class (classification), one or more
/// numeric targets (regression), or nothing (rows to predict). Features are images (grayscale bytes 0-255, scaled to
/// [0,1] one batch at a time when a model reads them, as the notebook's ToTensor does) or table columns (numbers
/// and one-hot encoded categories, standardised by the model that reads them). MNIST is one source among others.
/// Holds only managed memory, so nothing to dispose.
/// </summary>
public sealed class MlpDataset
{
    private readonly byte[]? _pixels;
    private readonly float[]? _features;
    private readonly int[]? _labels;
    private readonly float[]? _targets;

    /// <summary>Images and class indices in MNIST's layout: the classes are named by their number.</summary>
    public MlpDataset(string name, string split, byte[] pixels, byte[] labels, int imageHeight, int imageWidth, string source)
        : this(name, split, source, labels.Length, pixels, null, labels.Select(l => (int)l).ToArray(), null,
            IndexNames(labels.Length == 0 ? 0 : labels.Max() + 1), Array.Empty<string>(), null, imageHeight, imageWidth, ImagePreparation.Digit)
    {
    }

    private MlpDataset(string name, string split, string source, int count, byte[]? pixels, float[]? features, int[]? labels, float[]? targets,
        IReadOnlyList<string> classNames, IReadOnlyList<string> targetNames, FeatureSchema? schema, int imageHeight, int imageWidth, ImagePreparation imagePreparation)
    {
        Name = name;
        Split = split;
        Source = source;
        Count = count;
        _pixels = pixels;
        _features = features;
        _labels = labels;
        _targets = targets;
        ClassNames = classNames;
        TargetNames = targetNames;
        Schema = schema;
        ImageHeight = imageHeight;
        ImageWidth = imageWidth;
        ImagePreparation = imagePreparation;
        FeatureCount = pixels is not null ? CheckedImageSize() : schema!.EncodedWidth;
        long cells = (long)count * FeatureCount;
        if ((pixels?.LongLength ?? features!.LongLength) != cells)
        {
            throw new MlpToolsException(ErrorIds.DatasetCountMismatch,
                $"Dataset '{name}' ({split}) has {count} {(labels is null && targets is null ? "rows" : "labels")} but " +
                $"{(FeatureCount == 0 ? 0 : (pixels?.LongLength ?? features!.LongLength) / FeatureCount)} {(IsImage ? $"images of {imageHeight}x{imageWidth}" : $"rows of {FeatureCount} features")}. " +
                (IsImage ? "The images and labels files must come from the same set." : "Every row needs every feature."), source);
        }
        if (targets is not null && targets.LongLength != (long)count * targetNames.Count)
        {
            throw new ArgumentException($"{targets.Length} target values do not make {count} rows of {targetNames.Count}.", nameof(targets));
        }
    }

    /// <summary>Images with named classes (an image folder, one subfolder a class), or unlabelled images when <paramref name="labels"/> is null.</summary>
    public static MlpDataset FromImages(string name, string split, byte[] pixels, int[]? labels, IReadOnlyList<string> classNames,
        int imageHeight, int imageWidth, ImagePreparation preparation, string source)
    {
        int count = labels?.Length ?? (imageHeight * imageWidth == 0 ? 0 : pixels.Length / (imageHeight * imageWidth));
        return new MlpDataset(name, split, source, count, pixels, null, labels, null, classNames, Array.Empty<string>(), null, imageHeight, imageWidth, preparation);
    }

    /// <summary>Rows of a table (a CSV file, PowerShell objects): its encoded features and its label or targets, if it has them.</summary>
    public static MlpDataset FromTable(string name, string split, TabularData table, string source) =>
        new(name, split, source, table.RowCount, null, table.Features, table.LabelIndices, table.Targets,
            table.ClassNames ?? Array.Empty<string>(), table.TargetNames ?? Array.Empty<string>(), table.Schema, 0, 0, ImagePreparation.Resize);

    /// <summary>A dataset from its parts as another dataset holds them (a sweep's copy sent to a remote session).</summary>
    internal static MlpDataset FromParts(string name, string split, string source, int count, byte[]? pixels, float[]? features, int[]? labels,
        float[]? targets, IReadOnlyList<string> classNames, IReadOnlyList<string> targetNames, FeatureSchema? schema, int imageHeight, int imageWidth,
        ImagePreparation imagePreparation) =>
        new(name, split, source, count, pixels, features, labels, targets, classNames, targetNames, schema, imageHeight, imageWidth, imagePreparation);

    public string Name { get; }
    public string Split { get; }
    /// <summary>Where the data came from: the folder or files it was read from.</summary>
    public string Source { get; }
    public int Count { get; }
    /// <summary>Regression when the rows carry numeric targets; classification otherwise.</summary>
    public MlpTask Task => _targets is not null ? MlpTask.Regression : MlpTask.Classification;
    /// <summary>False for rows to predict, which have neither a class nor a target.</summary>
    public bool HasAnswers => _labels is not null || _targets is not null;
    /// <summary>Numbers each example gives a model: pixels of an image, or table columns after one-hot encoding.</summary>
    public int FeatureCount { get; }
    public bool IsImage => _pixels is not null;
    /// <summary>Image height and width in pixels; 0 for a table.</summary>
    public int ImageHeight { get; }
    public int ImageWidth { get; }
    public int ImageSize => ImageHeight * ImageWidth;
    /// <summary>How image files are prepared to look like this dataset's images (MNIST's digit preparation for IDX files).</summary>
    public ImagePreparation ImagePreparation { get; }
    /// <summary>The table's columns and their categories; null for images.</summary>
    public FeatureSchema? Schema { get; }
    /// <summary>Names of the classes, by class index ("0" to "9" for MNIST).</summary>
    public IReadOnlyList<string> ClassNames { get; }
    /// <summary>Number of classes: for MNIST-layout data, the largest label plus one.</summary>
    public int ClassCount => ClassNames.Count;
    /// <summary>Regression: the names of the target columns.</summary>
    public IReadOnlyList<string> TargetNames { get; }
    /// <summary>Names of the features: the table's encoded columns ("Color=red"), or "pixel_0" ... for images.</summary>
    public IReadOnlyList<string> FeatureNames => Schema?.EncodedNames ?? Enumerable.Range(0, FeatureCount).Select(i => $"pixel_{i}").ToArray();

    /// <summary>The class index of example <paramref name="index"/> (-1 when the dataset has no labels).</summary>
    public int GetLabel(int index) => _labels is null ? -1 : _labels[index];

    /// <summary>The name of the class of example <paramref name="index"/>, or null.</summary>
    public string? GetClassName(int index) => _labels is null ? null : ClassNames[_labels[index]];

    /// <summary>One image's pixels, row by row.</summary>
    public ReadOnlySpan<byte> GetImage(int index) => _pixels is null
        ? throw new MlpToolsException(ErrorIds.DatasetNotImages,
            $"Dataset '{Name}' ({Split}) holds table rows, not images, so it has no pixels to show.", this)
        : _pixels.AsSpan(index * FeatureCount, FeatureCount);

    /// <summary>One image's pixels as an array, for scripts (PowerShell cannot hold the span <see cref="GetImage"/> returns).</summary>
    public byte[] GetPixels(int index) => GetImage(index).ToArray();

    /// <summary>One example's features as a model reads them before scaling (pixels as 0-255).</summary>
    public float[] GetFeatures(int index) => _pixels is not null
        ? Array.ConvertAll(_pixels.AsSpan(index * FeatureCount, FeatureCount).ToArray(), b => (float)b)
        : _features.AsSpan(index * FeatureCount, FeatureCount).ToArray();

    /// <summary>Regression: the targets of example <paramref name="index"/>.</summary>
    public float[]? GetTargets(int index) => _targets?.AsSpan(index * TargetNames.Count, TargetNames.Count).ToArray();

    /// <summary>A new dataset of the examples at <paramref name="indices"/>, in that order.</summary>
    public MlpDataset Subset(IReadOnlyList<int> indices, string split)
    {
        int width = FeatureCount;
        byte[]? pixels = _pixels is null ? null : new byte[(long)indices.Count * width];
        float[]? features = _features is null ? null : new float[(long)indices.Count * width];
        int[]? labels = _labels is null ? null : new int[indices.Count];
        int targetWidth = TargetNames.Count;
        float[]? targets = _targets is null ? null : new float[(long)indices.Count * targetWidth];
        for (int i = 0; i < indices.Count; i++)
        {
            int row = indices[i];
            _pixels?.AsSpan(row * width, width).CopyTo(pixels.AsSpan(i * width, width));
            _features?.AsSpan(row * width, width).CopyTo(features.AsSpan(i * width, width));
            _targets?.AsSpan(row * targetWidth, targetWidth).CopyTo(targets.AsSpan(i * targetWidth, targetWidth));
            if (labels is not null)
            {
                labels[i] = _labels![row];
            }
        }
        return new MlpDataset(Name, split, Source, indices.Count, pixels, features, labels, targets, ClassNames, TargetNames, Schema,
            ImageHeight, ImageWidth, ImagePreparation);
    }

    internal byte[]? Pixels => _pixels;
    internal float[]? Features => _features;
    internal int[]? Labels => _labels;
    internal float[]? Targets => _targets;

    internal static string[] IndexNames(int count) => Enumerable.Range(0, count).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();

    /// <summary>Whether images of this size fit a dataset: at least one pixel, and an index for every pixel.</summary>
    internal static bool IsUsableImageSize(int height, int width) => height > 0 && width > 0 && (long)height * width <= int.MaxValue;

    private int CheckedImageSize()
    {
        if (!IsUsableImageSize(ImageHeight, ImageWidth))
        {
            throw new MlpToolsException(ErrorIds.ImageSizeInvalid,
                $"Dataset '{Name}' ({Split}) cannot have images of {ImageHeight}x{ImageWidth} pixels: each side must be at least 1 and the whole at most {int.MaxValue} pixels.", Source);
        }
        return ImageHeight * ImageWidth;
    }

    public override string ToString()
    {
        string examples = IsImage ? $"{Count} images of {ImageHeight}x{ImageWidth}" : $"{Count} rows of {FeatureCount} features";
        string answers = Task == MlpTask.Regression ? $"{TargetNames.Count} target(s)" : _labels is null ? "unlabelled" : $"{ClassCount} classes";
        return $"{Name} {Split} ({examples}, {answers})";
    }
}
