namespace MlpTools.Core.Data;

public enum MnistSplit
{
    Train,
    Test,
}

/// <summary>
/// Images and labels in MNIST's layout. Pixels stay as the file's bytes (0-255); they are scaled
/// to [0,1] one batch at a time when a model reads them, as the notebook's ToTensor does.
/// Holds only managed memory, so nothing to dispose.
/// </summary>
public sealed class MlpDataset
{
    private readonly byte[] _pixels;
    private readonly byte[] _labels;

    public MlpDataset(string name, string split, byte[] pixels, byte[] labels, int imageHeight, int imageWidth, string source)
    {
        long imageSize = (long)imageHeight * imageWidth;
        if (imageSize == 0 || imageSize > int.MaxValue)
        {
            throw new MlpToolsException("IdxHeaderInvalid", FailureKind.InvalidData,
                $"Dataset '{name}' ({split}) has images of {imageHeight}x{imageWidth} pixels, which cannot be used. The images file is damaged or not an images file.", source);
        }
        if (pixels.Length != labels.Length * imageSize)
        {
            throw new MlpToolsException("DatasetCountMismatch", FailureKind.InvalidData,
                $"Dataset '{name}' ({split}) has {labels.Length} labels but {(imageSize == 0 ? 0 : pixels.Length / imageSize)} images of {imageHeight}x{imageWidth}. " +
                "The images and labels files must come from the same set.", source);
        }
        Name = name;
        Split = split;
        _pixels = pixels;
        _labels = labels;
        ImageHeight = imageHeight;
        ImageWidth = imageWidth;
        Source = source;
        ClassCount = labels.Length == 0 ? 0 : labels.Max() + 1;
    }

    public string Name { get; }
    public string Split { get; }
    public int Count => _labels.Length;
    public int ImageHeight { get; }
    public int ImageWidth { get; }
    public int ImageSize => ImageHeight * ImageWidth;
    /// <summary>Number of classes: the largest label plus one.</summary>
    public int ClassCount { get; }
    /// <summary>Where the data came from: the folder or files it was read from.</summary>
    public string Source { get; }

    public int GetLabel(int index) => _labels[index];

    /// <summary>One image's pixels, row by row.</summary>
    public ReadOnlySpan<byte> GetImage(int index) => _pixels.AsSpan(index * ImageSize, ImageSize);

    /// <summary>A new dataset of the images at <paramref name="indices"/>, in that order.</summary>
    public MlpDataset Subset(IReadOnlyList<int> indices, string split)
    {
        var pixels = new byte[(long)indices.Count * ImageSize];
        var labels = new byte[indices.Count];
        for (int i = 0; i < indices.Count; i++)
        {
            GetImage(indices[i]).CopyTo(pixels.AsSpan(i * ImageSize, ImageSize));
            labels[i] = _labels[indices[i]];
        }
        return new MlpDataset(Name, split, pixels, labels, ImageHeight, ImageWidth, Source);
    }

    internal byte[] Pixels => _pixels;
    internal byte[] Labels => _labels;

    public override string ToString() => $"{Name} {Split} ({Count} images of {ImageHeight}x{ImageWidth}, {ClassCount} classes)";
}
