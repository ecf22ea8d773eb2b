using System.Diagnostics;
using System.Management.Automation;
using MlpTools.Core.Data;

namespace MlpTools.Commands;

/// <summary>Reads MNIST (or any dataset in MNIST's IDX layout) into memory, downloading it first on request.</summary>
[Cmdlet(VerbsCommon.Get, "MnistDataset", DefaultParameterSetName = FolderSet, SupportsShouldProcess = true)]
[OutputType(typeof(MlpDataset))]
public sealed class GetMnistDatasetCommand : MlpCmdlet
{
    private const string FolderSet = "Folder";
    private const string FilesSet = "Files";

    /// <summary>Which part to read; both, training first, when omitted.</summary>
    [Parameter(Position = 0, ParameterSetName = FolderSet)]
    public MnistSplit[] Split { get; set; } = { MnistSplit.Train, MnistSplit.Test };

    /// <summary>Folder holding the IDX files (or a torchvision-style MNIST/raw below it), taken literally (no wildcards).</summary>
    [Parameter(ParameterSetName = FolderSet, ValueFromPipelineByPropertyName = true)]
    [Alias("FullName", "LiteralPath", "LP")]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = FilesSet)]
    [ValidateNotNullOrEmpty]
    public string ImagesPath { get; set; } = "";

    [Parameter(Mandatory = true, ParameterSetName = FilesSet)]
    [ValidateNotNullOrEmpty]
    public string LabelsPath { get; set; } = "";

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string Name { get; set; } = "MNIST";

    /// <summary>Fetch missing files from the mirrors (checked against pinned SHA-256) before reading.</summary>
    [Parameter(ParameterSetName = FolderSet)]
    public SwitchParameter Download { get; set; }

    [Parameter(ParameterSetName = FolderSet)]
    [ValidateNotNullOrEmpty]
    public Uri[] Mirror { get; set; } = MnistDownloader.DefaultMirrors.ToArray();

    /// <summary>With -Download: fetch again even if the files are present.</summary>
    [Parameter(ParameterSetName = FolderSet)]
    public SwitchParameter Force { get; set; }

    [Parameter(ParameterSetName = FolderSet)]
    [ValidateRange(1, 3600)]
    public int TimeoutSec { get; set; } = 60;

    protected override void ProcessItem()
    {
        if (ParameterSetName == FilesSet)
        {
            WriteObject(Load(ResolvePath(ImagesPath), ResolvePath(LabelsPath), "Custom"));
            return;
        }

        string folder = Path is null ? MnistFiles.DefaultDataPath : ResolvePath(Path);
        foreach (MnistSplit split in Split.Distinct())
        {
            if (Download && !DownloadSplit(folder, split))
            {
                continue;
            }
            var (images, labels) = MnistFiles.FindFiles(folder, split);
            WriteObject(Load(images, labels, split.ToString()));
        }
    }

    private MlpDataset Load(string images, string labels, string split)
    {
        WriteVerbose($"Reading {Name} {split} from {images} ({SizeOf(images)}) and {labels} ({SizeOf(labels)}).");
        var time = Stopwatch.StartNew();
        MlpDataset dataset = MnistFiles.Load(images, labels, Name, split, StopToken, ProgressOf($"Reading {Name} {split}"));
        WriteVerboseTimed($"Read {dataset.Count:N0} images of {dataset.ImageHeight}x{dataset.ImageWidth} pixels and their labels", time);
        return dataset;
    }

    /// <summary>Returns false when -WhatIf (or a declined -Confirm) left files missing, so there is nothing to read.</summary>
    private bool DownloadSplit(string folder, MnistSplit split)
    {
        using var downloader = new MnistDownloader(TimeSpan.FromSeconds(TimeoutSec));
        // A mirror without a scheme is a local folder, relative to the current location.
        Uri[] mirrors = Mirror.Select(m => m.IsAbsoluteUri ? m : new Uri(ResolvePath(m.OriginalString))).ToArray();
        bool complete = true;
        foreach (string stem in MnistDownloader.MissingFiles(folder, split, Force))
        {
            string target = System.IO.Path.Combine(folder, stem);
            if (!ShouldProcess(target, $"Download {stem} from {string.Join(", ", mirrors.Select(m => m.ToString()))}"))
            {
                complete &= MnistFiles.TryFind(folder, stem) is not null;
                continue;
            }
            WriteDebug($"Mirrors, in order: {string.Join(", ", mirrors.Select(m => m.ToString()))}; timeout {TimeoutSec} s.");
            var time = Stopwatch.StartNew();
            ReportProgress($"Downloading {stem}", "Connecting", 0);
            Uri source = downloader.Download(stem, folder, mirrors, StopToken, ProgressOf($"Downloading {stem}"));
            WriteVerboseTimed($"Downloaded {source} to {target} ({SizeOf(target)}, SHA-256 verified)", time);
        }
        return complete;
    }
}
