using System.Buffers.Binary;
using System.IO.Compression;
using MlpTools.Core.Data;
using MlpTools.Core.Modeling;
using MlpTools.Core.Platform;
using Xunit;

namespace MlpTools.Core.Tests;

/// <summary>
/// Shared test data: tiny IDX files written to a temporary folder, small in-memory datasets a model
/// can learn in a few epochs, and a progress sink that reports synchronously.
/// </summary>
internal static class TestData
{
    /// <summary>Side of the square images of <see cref="Separable"/>: 4x4 = 16 pixels.</summary>
    public const int Side = 4;
    public const int PixelsPerImage = Side * Side;

    /// <summary>An IDX file of unsigned bytes: magic 0x000008nn, big-endian dimensions, then the data.</summary>
    public static byte[] Idx(int[] dimensions, byte[] data) =>
        IdxHeader(0x08, dimensions.Select(d => (uint)d).ToArray()).Concat(data).ToArray();

    /// <summary>Just a header, with any type byte and any dimensions, for crafting damaged or lying files.</summary>
    public static byte[] IdxHeader(byte type, params uint[] dimensions)
    {
        var header = new byte[4 + 4 * dimensions.Length];
        header[2] = type;
        header[3] = (byte)dimensions.Length;
        for (int i = 0; i < dimensions.Length; i++)
        {
            BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(4 + 4 * i), dimensions[i]);
        }
        return header;
    }

    public static byte[] Gzip(byte[] content)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(content);
        }
        return buffer.ToArray();
    }

    /// <summary>Writes an IDX file (gzip-compressed when <paramref name="gzip"/>) and returns its path.</summary>
    public static string WriteIdx(string path, int[] dimensions, byte[] data, bool gzip = false)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        byte[] content = Idx(dimensions, data);
        File.WriteAllBytes(path, gzip ? Gzip(content) : content);
        return path;
    }

    /// <summary>Writes one split's images and labels files under their MNIST names (plus .gz when <paramref name="gzip"/>).</summary>
    public static void WriteSplit(string folder, MnistSplit split, int height, int width, byte[] pixels, byte[] labels, bool gzip = false)
    {
        var (imagesStem, labelsStem) = MnistFiles.FileStems(split);
        string suffix = gzip ? ".gz" : "";
        WriteIdx(Path.Combine(folder, imagesStem + suffix), new[] { labels.Length, height, width }, pixels, gzip);
        WriteIdx(Path.Combine(folder, labelsStem + suffix), new[] { labels.Length }, labels, gzip);
    }

    /// <summary>
    /// A linearly separable two-class set of 4x4 images: class 0 has a bright left half and a dark right half,
    /// class 1 the reverse; labels alternate 0, 1, 0, ...; pixel values vary with <paramref name="noiseSeed"/>.
    /// </summary>
    public static MlpDataset Separable(int count = 64, int noiseSeed = 0, string name = "separable", string split = "Train")
    {
        var random = new Random(noiseSeed);
        var pixels = new byte[count * PixelsPerImage];
        var labels = new byte[count];
        for (int i = 0; i < count; i++)
        {
            labels[i] = (byte)(i % 2);
            for (int row = 0; row < Side; row++)
            {
                for (int column = 0; column < Side; column++)
                {
                    bool bright = column < Side / 2 == (labels[i] == 0);
                    pixels[i * PixelsPerImage + row * Side + column] = (byte)(bright ? random.Next(160, 256) : random.Next(0, 64));
                }
            }
        }
        return new MlpDataset(name, split, pixels, labels, Side, Side, "memory");
    }

    /// <summary>The same images as <paramref name="dataset"/> with other labels.</summary>
    public static MlpDataset WithLabels(MlpDataset dataset, byte[] labels, string? name = null)
    {
        var pixels = new byte[dataset.Count * dataset.ImageSize];
        for (int i = 0; i < dataset.Count; i++)
        {
            dataset.GetImage(i).CopyTo(pixels.AsSpan(i * dataset.ImageSize));
        }
        return new MlpDataset(name ?? dataset.Name, dataset.Split, pixels, labels, dataset.ImageHeight, dataset.ImageWidth, dataset.Source);
    }

    public static MlpDataset InMemory(int height, int width, byte[] pixels, byte[] labels, string name = "memory") =>
        new(name, "Test", pixels, labels, height, width, "memory");

    /// <summary>A 16-input model for the 4x4 sets: 16-8-2 unless told otherwise.</summary>
    public static MlpModel Model(long seed = 1, int[]? hidden = null, int outputs = 2, string name = "m") =>
        MlpModel.Create(name, new MlpArchitecture(PixelsPerImage, hidden ?? new[] { 8 }, outputs, ActivationSpec.ReLU), seed);

    public static MlpToolsException Fails(string errorId, Action action)
    {
        var error = Assert.Throws<MlpToolsException>(action);
        Assert.Equal(errorId, error.ErrorId);
        return error;
    }

    /// <summary>A fresh folder under the system temp folder, deleted with everything in it on dispose.</summary>
    public sealed class TempFolder : IDisposable
    {
        public TempFolder()
        {
            Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "mlptools-tests-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(Path);
        }

        public string Path { get; }

        public string File(string name) => System.IO.Path.Combine(Path, name);

        public string Write(string name, byte[] content)
        {
            string path = File(name);
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
            System.IO.File.WriteAllBytes(path, content);
            return path;
        }

        public void Dispose()
        {
            if (Directory.Exists(Path))
            {
                Directory.Delete(Path, recursive: true);
            }
        }
    }

    /// <summary>
    /// Calls back on the reporting thread, unlike <see cref="Progress{T}"/>, which posts to the thread pool
    /// and so could run after the operation has moved on.
    /// </summary>
    public sealed class SyncProgress<T>(Action<T>? onReport = null) : IProgress<T>
    {
        public List<T> Reports { get; } = new();

        public void Report(T value)
        {
            Reports.Add(value);
            onReport?.Invoke(value);
        }
    }

    /// <summary>Every activation with the parameters the tests try: (activation, ELU's α, leaky ReLU's slope).</summary>
    public static TheoryData<Activation, double, double> ActivationSpecs => new()
    {
        { Activation.ReLU, 1, 0.01 },
        { Activation.Sigmoid, 1, 0.01 },
        { Activation.Tanh, 1, 0.01 },
        { Activation.ELU, 1, 0.01 },
        { Activation.ELU, 0.5, 0.01 },
        { Activation.LeakyReLU, 1, 0.01 },
        { Activation.LeakyReLU, 1, 0.2 },
        { Activation.GELU, 1, 0.01 },
        { Activation.Swish, 1, 0.01 },
        { Activation.Mish, 1, 0.01 },
    };
}
