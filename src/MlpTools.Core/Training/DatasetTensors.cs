using MlpTools.Core.Data;
using MlpTools.Core.Modeling;
using static TorchSharp.torch;

namespace MlpTools.Core.Training;

/// <summary>
/// A dataset as native tensors for the length of one command, in the model's terms, prepared once: images scaled to
/// float in [0,1], table rows laid out in the model's column order and standardised. Classes become the model's class
/// indices; regression targets are standardised as the model learns them. Made on the model's device (<see cref="MlpModel.TorchDevice"/>). (Images as float take four times the bytes
/// of the file's pixels, 188 MB for MNIST's training set, and save every batch of every epoch its conversion.)
/// </summary>
internal sealed class DatasetTensors : IDisposable
{
    private readonly Tensor _inputs;
    private readonly Tensor? _answers;

    public DatasetTensors(MlpDataset dataset, MlpModel model)
        : this(dataset, model.Preprocessing.ForReading(), model.Bind(dataset), model.InputSize, model.TorchDevice)
    {
    }

    public DatasetTensors(MlpDataset dataset, Preprocessing preprocessing, DataBinding binding, int inputSize, Device device)
    {
        Count = dataset.Count;
        Task = preprocessing.Task;
        ClassCount = dataset.Labels is null ? 0 : binding.ClassMap is { Length: > 0 } classMap ? classMap.Max() + 1 : dataset.ClassCount;
        _inputs = dataset.IsImage ? ImageInputs(dataset, preprocessing, device) : TableInputs(dataset, preprocessing, binding, inputSize, device);
        _answers = Answers(dataset, preprocessing, binding, device);
    }

    public int Count { get; }
    public MlpTask Task { get; }
    /// <summary>Classification: one more than the highest of the model's class indices the labels use.</summary>
    public int ClassCount { get; }
    public bool HasAnswers => _answers is not null;

    /// <summary>Inputs and answers (class indices or standardised targets) of the rows listed in <paramref name="rows"/>.</summary>
    public (Tensor Inputs, Tensor Answers) Gather(Tensor rows) =>
        (_inputs.index_select(0, rows), _answers?.index_select(0, rows)!);

    /// <summary>Inputs and answers of <paramref name="length"/> consecutive rows from <paramref name="start"/>.</summary>
    public (Tensor Inputs, Tensor Answers) Slice(long start, long length) =>
        (_inputs.narrow(0, start, length), _answers?.narrow(0, start, length)!);

    /// <summary>
    /// Raw features as the model's first layer takes them: the notebook's ToTensor for pixels (bytes / 255), the fitted
    /// standardisation for table columns. The one place this is done, for datasets and for rows to predict alike, on
    /// <paramref name="raw"/>'s device.
    /// </summary>
    internal static Tensor ToModelInputs(Tensor raw, Preprocessing preprocessing) => preprocessing.ReadsImages
        ? raw.to(ScalarType.Float32).div_(255f)
        : raw.sub(tensor(preprocessing.FeatureMean!, device: raw.device)).div_(tensor(preprocessing.FeatureScale!, device: raw.device));

    private static Tensor ImageInputs(MlpDataset dataset, Preprocessing preprocessing, Device device)
    {
        using var scope = NewDisposeScope();
        Tensor pixels = tensor(dataset.Pixels!, new long[] { dataset.Count, dataset.FeatureCount }, ScalarType.Byte, device);
        return ToModelInputs(pixels, preprocessing).MoveToOuterDisposeScope();
    }

    private static Tensor TableInputs(MlpDataset dataset, Preprocessing preprocessing, DataBinding binding, int inputSize, Device device)
    {
        using var scope = NewDisposeScope();
        Tensor raw = tensor(dataset.Features!, new long[] { dataset.Count, dataset.FeatureCount }, ScalarType.Float32, device);
        if (binding.FeatureMap is { } map)
        {
            // Columns in the model's order; a category the model never saw feeds no input.
            long[] kept = Enumerable.Range(0, map.Length).Where(i => map[i] >= 0).Select(i => (long)i).ToArray();
            Tensor placed = zeros(dataset.Count, inputSize, ScalarType.Float32, device);
            placed.index_copy_(1, tensor(kept.Select(i => (long)map[i]).ToArray(), device: device), raw.index_select(1, tensor(kept, device: device)));
            raw = placed;
        }
        return ToModelInputs(raw, preprocessing).contiguous().MoveToOuterDisposeScope();
    }

    private static Tensor? Answers(MlpDataset dataset, Preprocessing preprocessing, DataBinding binding, Device device)
    {
        if (dataset.Labels is { } labels)
        {
            int[] map = binding.ClassMap ?? Enumerable.Range(0, dataset.ClassCount).ToArray();
            return tensor(labels.Select(l => (long)map[l]).ToArray(), device: device);
        }
        if (dataset.Targets is { } targets)
        {
            using var scope = NewDisposeScope();
            int width = dataset.TargetNames.Count;
            Tensor raw = tensor(targets, new long[] { dataset.Count, width }, ScalarType.Float32, device);
            if (binding.TargetMap is { } map)
            {
                raw = zeros(dataset.Count, width, device: device).index_copy_(1, tensor(map.Select(m => (long)m).ToArray(), device: device), raw);
            }
            return raw.sub(tensor(preprocessing.TargetMean!, device: device)).div_(tensor(preprocessing.TargetScale!, device: device)).MoveToOuterDisposeScope();
        }
        return null;
    }

    public void Dispose()
    {
        _inputs.Dispose();
        _answers?.Dispose();
    }
}
