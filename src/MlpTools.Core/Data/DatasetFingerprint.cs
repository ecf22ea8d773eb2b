using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using System.Security.Cryptography;

namespace MlpTools.Core.Data;

/// <summary>
/// Identifies the data a model was trained on without keeping it: the dataset's shape and a SHA-256 of its
/// image size, pixels and labels. Two datasets with the same fingerprint hold the same images and labels in the same order.
/// </summary>
public sealed record DatasetFingerprint(string Name, string Split, int Count, int ImageHeight, int ImageWidth, int ClassCount, string Sha256)
{
    // Datasets are immutable, so each is hashed once; the table lets a dataset and its hash be collected together.
    private static readonly ConditionalWeakTable<MlpDataset, DatasetFingerprint> Cache = new();

    public static DatasetFingerprint Of(MlpDataset dataset) => Cache.GetValue(dataset, Compute);

    /// <summary>True when both describe the same images and labels (names may differ).</summary>
    public bool SameData(DatasetFingerprint? other) =>
        other is not null && other.Count == Count && other.ImageHeight == ImageHeight && other.ImageWidth == ImageWidth &&
        string.Equals(other.Sha256, Sha256, StringComparison.OrdinalIgnoreCase);

    public override string ToString() => $"{Name} {Split} ({Count} images of {ImageHeight}x{ImageWidth}, sha256 {Sha256[..Math.Min(12, Sha256.Length)]}…)";

    private static DatasetFingerprint Compute(MlpDataset dataset)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        // Tables are fingerprinted as one row of FeatureCount "pixels"; image datasets hash exactly as MlpTools 0.1 did,
        // so checkpoints and histories written before tables existed still match their data.
        int height = dataset.IsImage ? dataset.ImageHeight : 1;
        int width = dataset.IsImage ? dataset.ImageWidth : dataset.FeatureCount;
        Span<byte> header = stackalloc byte[12];
        BinaryPrimitives.WriteInt32LittleEndian(header, dataset.Count);
        BinaryPrimitives.WriteInt32LittleEndian(header[4..], height);
        BinaryPrimitives.WriteInt32LittleEndian(header[8..], width);
        hash.AppendData(header);
        if (dataset.Pixels is { } pixels)
        {
            hash.AppendData(pixels);
        }
        else
        {
            hash.AppendData(MemoryMarshal.AsBytes(dataset.Features.AsSpan()));
            foreach (string name in dataset.FeatureNames)
            {
                hash.AppendData(Encoding.UTF8.GetBytes(name + "\n"));
            }
        }
        if (dataset.Labels is { } labels)
        {
            if (dataset.IsImage && dataset.ClassCount <= 256)
            {
                hash.AppendData(labels.Select(l => (byte)l).ToArray());
            }
            else
            {
                hash.AppendData(MemoryMarshal.AsBytes(labels.AsSpan()));
                foreach (string name in dataset.ClassNames)
                {
                    hash.AppendData(Encoding.UTF8.GetBytes(name + "\n"));
                }
            }
        }
        if (dataset.Targets is { } targets)
        {
            hash.AppendData(MemoryMarshal.AsBytes(targets.AsSpan()));
        }
        return new DatasetFingerprint(dataset.Name, dataset.Split, dataset.Count, height, width, dataset.ClassCount,
            Convert.ToHexString(hash.GetHashAndReset()).ToLowerInvariant());
    }
}
