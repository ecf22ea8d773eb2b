using MlpTools.Core.Platform;

namespace MlpTools.Core.Data;

/// <summary>The four standard MNIST-layout IDX files: where they are looked for and how they are read.</summary>
public static class MnistFiles
{
    /// <summary>Environment variable that overrides the per-user data folder.</summary>
    public const string DataPathVariable = "MLPTOOLS_DATA";

    /// <summary>SHA-256 of the uncompressed MNIST files, so a download is checked whatever its compression.</summary>
    public static readonly IReadOnlyDictionary<string, string> MnistSha256 = new Dictionary<string, string>
    {
        ["train-images-idx3-ubyte"] = "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        ["train-labels-idx1-ubyte"] = "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        ["t10k-images-idx3-ubyte"] = "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        ["t10k-labels-idx1-ubyte"] = "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    };

    public static string DefaultDataPath
    {
        get
        {
            string? overridden = Environment.GetEnvironmentVariable(DataPathVariable);
            return string.IsNullOrWhiteSpace(overridden)
                ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.DoNotVerify), "MlpTools", "mnist")
                : overridden;
        }
    }

    public static (string Images, string Labels) FileStems(MnistSplit split) => split switch
    {
        MnistSplit.Train => ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
        _ => ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
    };

    /// <summary>Reads one split from a folder: the folder itself, or a torchvision-style MNIST/raw below it.</summary>
    public static MlpDataset Load(string folder, MnistSplit split, string name = "MNIST", CancellationToken cancel = default, IProgress<double>? progress = null)
    {
        var (imagesPath, labelsPath) = FindFiles(folder, split);
        return Load(imagesPath, labelsPath, name, split.ToString(), cancel, progress);
    }

    /// <summary>The images and labels files of <paramref name="split"/> under <paramref name="folder"/>; MnistFileNotFound when one is missing.</summary>
    public static (string Images, string Labels) FindFiles(string folder, MnistSplit split)
    {
        var (imagesStem, labelsStem) = FileStems(split);
        return (Find(folder, imagesStem), Find(folder, labelsStem));
    }

    /// <param name="progress">Told the fraction read: the images file's share of both files' bytes once it is read, then 1.</param>
    public static MlpDataset Load(string imagesPath, string labelsPath, string name, string split, CancellationToken cancel = default,
        IProgress<double>? progress = null)
    {
        // A gzip file's header may honestly claim far more than its partner holds (1.6 GB of labels next to 12 images): when
        // the headers disagree, a compressed file claiming more is refused before it is inflated. A raw file is bounded by its
        // length, so reading it still reports a truncated file as truncated.
        int imageCount = IdxReader.ReadDimensions(imagesPath, 3)[0], labelCount = IdxReader.ReadDimensions(labelsPath, 1)[0];
        if (imageCount > labelCount && IdxReader.IsCompressed(imagesPath) || labelCount > imageCount && IdxReader.IsCompressed(labelsPath))
        {
            RequireSameCount(imageCount, labelCount, imagesPath, labelsPath);
        }
        progress?.Report(0);
        var images = IdxReader.Read(imagesPath, expectedDimensionCount: 3, cancel);
        // Images are ~780 times the bytes of labels: their share of the bytes is the share of the work.
        progress?.Report(images.Data.Length / (images.Data.Length + (double)labelCount));
        var labels = IdxReader.Read(labelsPath, expectedDimensionCount: 1, cancel);
        progress?.Report(1);
        RequireSameCount(images.Dimensions[0], labels.Dimensions[0], imagesPath, labelsPath);
        if (!MlpDataset.IsUsableImageSize(images.Dimensions[1], images.Dimensions[2]))
        {
            throw new MlpToolsException(ErrorIds.IdxHeaderInvalid,
                $"'{imagesPath}' claims images of {images.Dimensions[1]}x{images.Dimensions[2]} pixels, which cannot be used. The images file is damaged or not an images file.", imagesPath);
        }
        return new MlpDataset(name, split, images.Data, labels.Data, images.Dimensions[1], images.Dimensions[2],
            Path.GetDirectoryName(Path.GetFullPath(imagesPath)) ?? imagesPath);
    }

    private static void RequireSameCount(int images, int labels, string imagesPath, string labelsPath)
    {
        if (images != labels)
        {
            throw new MlpToolsException(ErrorIds.DatasetCountMismatch,
                $"'{imagesPath}' holds {images} images but '{labelsPath}' holds {labels} labels. " +
                "The images and labels files must come from the same set.", imagesPath);
        }
    }

    private static string[] SearchFolders(string folder) => new[] { folder, Path.Combine(folder, "MNIST", "raw"), Path.Combine(folder, "raw") };

    /// <summary>
    /// Where <paramref name="stem"/> (raw or .gz) is found under <paramref name="folder"/>, or null. A directory of
    /// that name counts (as does a FIFO, a device or a link loop), so that reading it reports what is there instead of a missing file.
    /// </summary>
    public static string? TryFind(string folder, string stem) =>
        SearchFolders(folder).SelectMany(f => new[] { Path.Combine(f, stem), Path.Combine(f, stem + ".gz") })
            .FirstOrDefault(path => RegularFile.Inspect(Path.GetFullPath(path)) != RegularFile.Kind.Missing);

    private static string Find(string folder, string stem)
    {
        if (TryFind(folder, stem) is string path)
        {
            return path;
        }
        string[] folders = SearchFolders(folder);
        throw new MlpToolsException(ErrorIds.MnistFileNotFound,
            $"Cannot find '{stem}' (or '{stem}.gz') in '{string.Join("', '", folders)}'. " +
            "Run 'Get-MnistDataset -Download' to fetch MNIST into the data folder, point -Path at a folder that holds the four IDX files, " +
            $"or set the environment variable {DataPathVariable} to such a folder (in PowerShell: $env:{DataPathVariable} = '<folder>').", folder);
    }
}
