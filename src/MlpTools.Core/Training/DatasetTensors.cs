using MlpTools.Core.Data;
using static TorchSharp.torch;

namespace MlpTools.Core.Training;

/// <summary>
/// A dataset's bytes as native tensors for the length of one command: images stay uint8
/// (one byte a pixel, as in the file) and each batch is scaled to float in [0,1] when it is read.
/// </summary>
internal sealed class DatasetTensors : IDisposable
{
    private readonly Tensor _images;
    private readonly Tensor _labels;

    public DatasetTensors(MlpDataset dataset)
    {
        Count = dataset.Count;
        ClassCount = dataset.ClassCount;
        _images = tensor(dataset.Pixels, new long[] { dataset.Count, dataset.ImageSize }, ScalarType.Byte);
        _labels = tensor(dataset.Labels, ScalarType.Byte).to(ScalarType.Int64);
    }

    public int Count { get; }
    public int ClassCount { get; }

    /// <summary>Images and labels of the rows listed in <paramref name="rows"/>.</summary>
    public (Tensor Images, Tensor Labels) Gather(Tensor rows) =>
        (Scale(_images.index_select(0, rows)), _labels.index_select(0, rows));

    /// <summary>Images and labels of <paramref name="length"/> consecutive rows from <paramref name="start"/>.</summary>
    public (Tensor Images, Tensor Labels) Slice(long start, long length) =>
        (Scale(_images.narrow(0, start, length)), _labels.narrow(0, start, length));

    // The notebook's ToTensor: bytes / 255.
    private static Tensor Scale(Tensor bytes) => bytes.to(ScalarType.Float32).div_(255f);

    public void Dispose()
    {
        _images.Dispose();
        _labels.Dispose();
    }
}
