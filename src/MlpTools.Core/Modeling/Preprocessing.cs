using MlpTools.Core.Data;
using MlpTools.Core.Data.Images;
using MlpTools.Core.Data.Tabular;
using MlpTools.Core.Platform;

namespace MlpTools.Core.Modeling;

/// <summary>
/// What a model does around its layers, learned from its data and kept with it (in model files and checkpoints too):
/// how raw features become its inputs (pixels scaled to [0,1]; table columns one-hot encoded and standardised with the
/// mean and standard deviation of the training data), and what its outputs mean (class names, or regression targets,
/// which it learns standardised and answers in their own units).
/// </summary>
public sealed record Preprocessing
{
    public MlpTask Task { get; init; } = MlpTask.Classification;
    /// <summary>Classification: the name of each output, by index.</summary>
    public IReadOnlyList<string> ClassNames { get; init; } = Array.Empty<string>();
    /// <summary>Regression: the name of each output.</summary>
    public IReadOnlyList<string> TargetNames { get; init; } = Array.Empty<string>();
    /// <summary>Tables: the columns and categories the model was built for; null for a model that reads images.</summary>
    public FeatureSchema? Schema { get; init; }
    /// <summary>Images: their height and width (0 when not known, for a model made without data from a non-square size).</summary>
    public int ImageHeight { get; init; }
    public int ImageWidth { get; init; }
    /// <summary>Images: how an image file is made to look like the training images.</summary>
    public ImagePreparation ImagePreparation { get; init; } = ImagePreparation.Digit;
    /// <summary>Tables: per input, the value subtracted and the divisor (standardisation); null until training starts.</summary>
    public float[]? FeatureMean { get; init; }
    public float[]? FeatureScale { get; init; }
    /// <summary>Regression: the same for the targets.</summary>
    public float[]? TargetMean { get; init; }
    public float[]? TargetScale { get; init; }
    /// <summary>False for a model made without data: its first training dataset then decides what it reads.</summary>
    public bool FromData { get; init; }

    public bool ReadsImages => Schema is null;
    public bool IsFitted => (Schema is null || FeatureMean is not null) && (Task == MlpTask.Classification || TargetMean is not null);

    /// <summary>A model made from sizes alone: MNIST's reading (pixels / 255, digits prepared as MNIST's, classes named 0, 1, ...).</summary>
    public static Preprocessing ForSizes(int inputSize, int outputSize)
    {
        int side = (int)Math.Round(Math.Sqrt(inputSize));
        bool square = side * side == inputSize;
        return new Preprocessing
        {
            ClassNames = MlpDataset.IndexNames(outputSize),
            ImageHeight = square ? side : 0,
            ImageWidth = square ? side : 0,
        };
    }

    /// <summary>The reading a dataset implies, for a model of <paramref name="outputSize"/> outputs (not yet fitted).</summary>
    public static Preprocessing Of(MlpDataset dataset, int outputSize)
    {
        bool indexNamed = dataset.IsImage && dataset.ClassNames.SequenceEqual(MlpDataset.IndexNames(dataset.ClassCount));
        var classNames = dataset.Task == MlpTask.Regression ? Array.Empty<string>()
            : indexNamed ? MlpDataset.IndexNames(outputSize)
            : dataset.ClassNames.Concat(MlpDataset.IndexNames(outputSize).Skip(dataset.ClassCount)).ToArray();
        return new Preprocessing
        {
            Task = dataset.Task,
            ClassNames = classNames,
            TargetNames = dataset.TargetNames.ToArray(),
            Schema = dataset.Schema,
            ImageHeight = dataset.ImageHeight,
            ImageWidth = dataset.ImageWidth,
            ImagePreparation = dataset.ImagePreparation,
            FromData = true,
        };
    }

    /// <summary>
    /// The standardisation fitted on <paramref name="train"/> where it is not fitted yet: mean and standard deviation of each
    /// numeric table column (one-hot columns stay 0/1) and of each regression target. A constant column gets divisor 1, not 0.
    /// </summary>
    public Preprocessing FittedOn(MlpDataset train, DataBinding binding)
    {
        var fitted = this;
        if (Schema is not null && FeatureMean is null)
        {
            var (mean, scale) = MeanAndScale(train.Features!, train.Count, train.FeatureCount);
            var modelMean = new float[Schema.EncodedWidth];
            var modelScale = Enumerable.Repeat(1f, Schema.EncodedWidth).ToArray();
            for (int i = 0; i < train.FeatureCount; i++)
            {
                int to = binding.FeatureMap?[i] ?? i;
                if (to >= 0 && Schema.NumericMask[to])
                {
                    modelMean[to] = mean[i];
                    modelScale[to] = scale[i];
                }
            }
            fitted = fitted with { FeatureMean = modelMean, FeatureScale = modelScale };
        }
        if (Task == MlpTask.Regression && TargetMean is null)
        {
            var (mean, scale) = MeanAndScale(train.Targets!, train.Count, TargetNames.Count);
            fitted = fitted with { TargetMean = binding.TargetMap is null ? mean : Permute(mean, binding.TargetMap), TargetScale = binding.TargetMap is null ? scale : Permute(scale, binding.TargetMap) };
        }
        return fitted;
    }

    private static float[] Permute(float[] values, int[] map)
    {
        var result = new float[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            result[map[i]] = values[i];
        }
        return result;
    }

    private static (float[] Mean, float[] Scale) MeanAndScale(float[] values, int rows, int width)
    {
        var sum = new double[width];
        var squares = new double[width];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < width; c++)
            {
                double v = values[(long)r * width + c];
                sum[c] += v;
                squares[c] += v * v;
            }
        }
        var mean = new float[width];
        var scale = new float[width];
        for (int c = 0; c < width; c++)
        {
            double m = rows == 0 ? 0 : sum[c] / rows;
            // Population standard deviation, as scikit-learn's StandardScaler.
            double variance = rows == 0 ? 0 : Math.Max(0, squares[c] / rows - m * m);
            double sd = Math.Sqrt(variance);
            mean[c] = (float)m;
            scale[c] = sd > 1e-12 * Math.Max(1, Math.Abs(m)) && double.IsFinite(sd) ? (float)sd : 1f;
        }
        return (mean, scale);
    }

    /// <summary>
    /// This preprocessing ready to read data: as fitted, or, for a model that has not been trained yet, with the identity
    /// standing in for the standardisation that training will fit.
    /// </summary>
    public Preprocessing ForReading()
    {
        if (IsFitted)
        {
            return this;
        }
        var withFeatures = Schema is null || FeatureMean is not null ? this
            : this with { FeatureMean = new float[Schema.EncodedWidth], FeatureScale = Enumerable.Repeat(1f, Schema.EncodedWidth).ToArray() };
        return Task == MlpTask.Classification || TargetMean is not null ? withFeatures
            : withFeatures with { TargetMean = new float[TargetNames.Count], TargetScale = Enumerable.Repeat(1f, TargetNames.Count).ToArray() };
    }

    /// <summary>
    /// How the examples of <paramref name="dataset"/> map onto the model's inputs and outputs; throws, with what to do,
    /// when the dataset does not fit (another task, kind of features, size, column, category, class or target).
    /// </summary>
    public DataBinding Bind(MlpDataset dataset, string modelName, int inputSize, int outputSize)
    {
        string what = $"dataset '{dataset.Name}' ({dataset.Split})";
        if (dataset.HasAnswers && dataset.Task != Task)
        {
            throw new MlpToolsException(ErrorIds.ModelTaskMismatch,
                $"Model '{modelName}' is a {Task.ToString().ToLowerInvariant()} model but {what} is {dataset.Task.ToString().ToLowerInvariant()} data. " +
                $"Create a model for it with 'New-Mlp -Dataset <dataset>'.", dataset);
        }
        if (dataset.IsImage != ReadsImages)
        {
            throw new MlpToolsException(ErrorIds.ModelDataKindMismatch,
                $"Model '{modelName}' reads {(ReadsImages ? "images" : "table rows")} but {what} holds {(dataset.IsImage ? "images" : "table rows")}. " +
                "Create a model for this data with 'New-Mlp -Dataset <dataset>'.", dataset);
        }
        int[]? featureMap = null;
        if (dataset.IsImage)
        {
            if (dataset.FeatureCount != inputSize)
            {
                throw new MlpToolsException(ErrorIds.ModelInputSizeMismatch,
                    $"Model '{modelName}' takes {inputSize} inputs but {what} has images of {dataset.ImageHeight}x{dataset.ImageWidth} = {dataset.FeatureCount} pixels. " +
                    $"Create a model with 'New-Mlp -InputSize {dataset.FeatureCount}'.", dataset);
            }
        }
        else
        {
            if (Schema!.EncodedWidth != inputSize)
            {
                throw new MlpToolsException(ErrorIds.ModelInputSizeMismatch,
                    $"Model '{modelName}' takes {inputSize} inputs but {what} has {Schema.EncodedWidth} features after one-hot encoding. " +
                    "Create a model for it with 'New-Mlp -Dataset <dataset>'.", dataset);
            }
            featureMap = MapFeatures(dataset.Schema!, modelName, what, dataset);
        }
        int outputs = Task == MlpTask.Regression ? TargetNames.Count : ClassNames.Count;
        if (outputs != outputSize)
        {
            throw new MlpToolsException(ErrorIds.ModelOutputSizeMismatch,
                $"Model '{modelName}' has {outputSize} outputs but {what} has {outputs} {(Task == MlpTask.Regression ? "targets" : "classes")}. " +
                $"Create a model with 'New-Mlp -Dataset <dataset>' or 'New-Mlp -OutputSize {outputs}'.", dataset);
        }
        int[]? classMap = dataset.Labels is null || Task != MlpTask.Classification ? null : MapClasses(dataset, modelName, what, outputSize);
        int[]? targetMap = dataset.Targets is null ? null : MapTargets(dataset, modelName, what);
        var unseen = new List<string>();
        if (featureMap is not null)
        {
            for (int i = 0; i < featureMap.Length; i++)
            {
                if (featureMap[i] < 0)
                {
                    unseen.Add(dataset.Schema!.EncodedNames[i]);
                }
            }
        }
        return new DataBinding(featureMap, classMap, targetMap, unseen);
    }

    private int[]? MapFeatures(FeatureSchema given, string modelName, string what, MlpDataset dataset)
    {
        var model = Schema!;
        var map = new int[given.EncodedWidth];
        var modelStart = new Dictionary<string, (FeatureColumn Column, int Start)>(StringComparer.Ordinal);
        int position = 0;
        foreach (var column in model.Columns)
        {
            modelStart[column.Name] = (column, position);
            position += column.Kind == ColumnKind.Numeric ? 1 : column.Categories.Count;
        }
        var missing = model.Columns.Select(c => c.Name).Except(given.Columns.Select(c => c.Name), StringComparer.Ordinal).ToList();
        var extra = given.Columns.Select(c => c.Name).Except(model.Columns.Select(c => c.Name), StringComparer.Ordinal).ToList();
        if (missing.Count > 0 || extra.Count > 0)
        {
            throw new MlpToolsException(ErrorIds.ModelFeatureMismatch,
                $"Model '{modelName}' was built for the features {string.Join(", ", model.Columns.Select(c => c.Name))}; {what} " +
                (missing.Count > 0 ? $"lacks {string.Join(", ", missing)}" : "") + (missing.Count > 0 && extra.Count > 0 ? " and " : "") +
                (extra.Count > 0 ? $"has {string.Join(", ", extra)} besides" : "") +
                ". Build the dataset with the model's features (-FeatureProperty / -FeatureColumn).", dataset);
        }
        int from = 0;
        foreach (var column in given.Columns)
        {
            var (modelColumn, start) = modelStart[column.Name];
            if (modelColumn.Kind != column.Kind)
            {
                throw new MlpToolsException(ErrorIds.ModelFeatureMismatch,
                    $"Model '{modelName}' reads '{column.Name}' as {modelColumn.Kind.ToString().ToLowerInvariant()} but in {what} it is {column.Kind.ToString().ToLowerInvariant()}. " +
                    "Build the dataset the way the training data was built (-CategoricalProperty / -CategoricalColumn).", dataset);
            }
            if (column.Kind == ColumnKind.Numeric)
            {
                map[from++] = start;
                continue;
            }
            foreach (string category in column.Categories)
            {
                int index = IndexOf(modelColumn.Categories, category);
                map[from++] = index < 0 ? -1 : start + index;
            }
        }
        return map.Select((to, i) => to == i).All(same => same) && map.Length == model.EncodedWidth ? null : map;
    }

    private int[] MapClasses(MlpDataset dataset, string modelName, string what, int outputSize)
    {
        var map = new int[dataset.ClassCount];
        for (int c = 0; c < dataset.ClassCount; c++)
        {
            map[c] = IndexOf(ClassNames, dataset.ClassNames[c]);
            if (map[c] >= 0)
            {
                continue;
            }
            bool indexNamed = ClassNames.SequenceEqual(MlpDataset.IndexNames(ClassNames.Count)) && dataset.ClassNames.SequenceEqual(MlpDataset.IndexNames(dataset.ClassCount));
            throw indexNamed
                ? new MlpToolsException(ErrorIds.ModelOutputSizeMismatch,
                    $"Model '{modelName}' has {outputSize} outputs but {what} has labels up to {dataset.ClassCount - 1}. " +
                    $"Create a model with 'New-Mlp -OutputSize {dataset.ClassCount}'.", dataset)
                : new MlpToolsException(ErrorIds.ModelClassUnknown,
                    $"{char.ToUpperInvariant(what[0])}{what[1..]} has the class '{dataset.ClassNames[c]}', which model '{modelName}' does not know " +
                    $"(its classes: {string.Join(", ", ClassNames)}). Train a model on data with every class.", dataset);
        }
        return map;
    }

    private int[] MapTargets(MlpDataset dataset, string modelName, string what)
    {
        var map = dataset.TargetNames.Select(t => IndexOf(TargetNames, t)).ToArray();
        if (map.Contains(-1) || map.Length != TargetNames.Count)
        {
            throw new MlpToolsException(ErrorIds.ModelTargetMismatch,
                $"Model '{modelName}' estimates {string.Join(", ", TargetNames)} but {what} has the target(s) {string.Join(", ", dataset.TargetNames)}. " +
                "Build the dataset with the model's -TargetProperty / -TargetColumn.", dataset);
        }
        return map;
    }

    private static int IndexOf(IReadOnlyList<string> names, string name)
    {
        for (int i = 0; i < names.Count; i++)
        {
            if (string.Equals(names[i], name, StringComparison.Ordinal))
            {
                return i;
            }
        }
        return -1;
    }

    public override string ToString()
    {
        string inputs = ReadsImages
            ? $"images{(ImageHeight > 0 ? $" {ImageHeight}x{ImageWidth}" : "")} / 255"
            : $"{Schema!.Columns.Count} columns ({Schema.Columns.Count(c => c.Kind == ColumnKind.Categorical)} one-hot), " + (FeatureMean is null ? "standardised when training starts" : "standardised");
        string outputs = Task == MlpTask.Regression ? $"regression of {string.Join(", ", TargetNames)}" : $"classes {Abbreviate(ClassNames)}";
        return $"{inputs}; {outputs}";
    }

    private static string Abbreviate(IReadOnlyList<string> names) =>
        names.Count <= 6 ? string.Join(", ", names) : $"{string.Join(", ", names.Take(5))}, ... ({names.Count})";
}

/// <summary>
/// How one dataset's examples line up with a model: for each encoded feature of the dataset the model input it feeds
/// (-1: a category the model never saw, read as none of its categories), for each class and target of the dataset the
/// model's output. Null maps are identities.
/// </summary>
public sealed record DataBinding(int[]? FeatureMap, int[]? ClassMap, int[]? TargetMap, IReadOnlyList<string> UnseenCategories);
