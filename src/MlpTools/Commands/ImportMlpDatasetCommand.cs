using System.Diagnostics;
using System.Management.Automation;
using MlpTools.Core.Data;
using MlpTools.Core.Data.Images;
using MlpTools.Core.Data.Tabular;
using MlpTools.Core.Platform;

namespace MlpTools.Commands;

/// <summary>
/// Reads a dataset from a CSV file (a header row; one column the label, or numeric target columns) or from a folder of
/// images with one subfolder per class (torchvision's ImageFolder layout).
/// </summary>
[Cmdlet(VerbsData.Import, "MlpDataset", DefaultParameterSetName = PathSet)]
[OutputType(typeof(MlpDataset))]
public sealed class ImportMlpDatasetCommand : FileReadingCmdlet
{
    /// <summary>CSV: the column holding each row's class.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? LabelColumn { get; set; }

    /// <summary>CSV: one or more numeric columns to estimate (regression).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? TargetColumn { get; set; }

    /// <summary>CSV: the columns to use as features; by default every column but the label or targets.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? FeatureColumn { get; set; }

    /// <summary>CSV: columns to one-hot encode even when their values look like numbers.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? CategoricalColumn { get; set; }

    /// <summary>CSV: the field separator; ',' by default (';' and "`t" are common too).</summary>
    [Parameter]
    public char Delimiter { get; set; } = ',';

    /// <summary>CSV: what to do with an empty cell: Error (default), DropRow, or Fill (numbers: the mean; categories: the most frequent).</summary>
    [Parameter]
    public MissingValuePolicy MissingValue { get; set; } = MissingValuePolicy.Error;

    /// <summary>Images: the height and width every image is resized to (one value: a square); 28 by default, as MNIST.</summary>
    [Parameter]
    [ValidateCount(1, 2)]
    [ValidateRange(1, 4096)]
    public int[] ImageSize { get; set; } = { 28 };

    /// <summary>The dataset's name; by default the file's or folder's name.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Name { get; set; }

    protected override void ProcessItem() => ReadEach(ErrorIds.DatasetPathNotFound, path =>
    {
        var time = Stopwatch.StartNew();
        MlpDataset dataset = Import(path);
        string answers = dataset.Task == MlpTask.Regression ? $"{dataset.TargetNames.Count} target(s)" : $"{dataset.ClassCount} classes";
        WriteVerboseTimed($"Read dataset '{dataset.Name}': {dataset.Count:N0} examples of {dataset.FeatureCount} features, {answers}", time);
        WriteObject(dataset);
    });

    private MlpDataset Import(string path)
    {
        string name = Name ?? System.IO.Path.GetFileNameWithoutExtension(System.IO.Path.TrimEndingDirectorySeparator(path));
        if (Directory.Exists(path))
        {
            int height = ImageSize[0];
            int width = ImageSize.Length > 1 ? ImageSize[1] : height;
            var images = ImageFolderReader.Read(path, height, width, ProgressOf($"Reading images from {path}"), StopToken);
            if (images.SkippedFiles.Count > 0)
            {
                WriteWarning($"Skipped {images.SkippedFiles.Count} file(s) under '{path}' that are not PNG or JPEG images, such as '{images.SkippedFiles[0]}'.");
            }
            if (images.ClassNames.Count < 2)
            {
                throw new MlpToolsException(ErrorIds.ImageFolderSingleClass,
                    $"'{path}' has only the class folder '{images.ClassNames[0]}'; a classifier needs at least two. Put each class's images in a subfolder of its own.", path);
            }
            return MlpDataset.FromImages(name, "All", images.Pixels, images.LabelIndices, images.ClassNames, height, width, ImagePreparation.Resize, path);
        }
        // A symbolic link that leads nowhere (a loop) is left to the reader, which says so.
        if (!System.IO.Path.Exists(path) && new FileInfo(path).LinkTarget is null)
        {
            throw new MlpToolsException(ErrorIds.DatasetPathNotFound,
                $"There is no file or folder '{path}'. Give a CSV file, or a folder with one subfolder of images per class.", path);
        }
        var table = CsvTableReader.Read(path, Delimiter, new TableBuilderOptions
        {
            LabelColumn = LabelColumn,
            TargetColumns = TargetColumn,
            FeatureColumns = FeatureColumn,
            CategoricalColumns = CategoricalColumn,
            Missing = MissingValue,
            RequireLabel = LabelColumn is not null,
        }, ProgressOf($"Reading {path}"), StopToken);
        foreach (string warning in table.Warnings)
        {
            WriteWarning(warning);
        }
        return MlpDataset.FromTable(name, "All", table, path);
    }
}
