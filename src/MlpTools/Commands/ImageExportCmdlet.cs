using System.Diagnostics;
using System.Management.Automation;
using MlpTools.Core.Imaging;

namespace MlpTools.Commands;

/// <summary>
/// What the picture cmdlets share: the PNG file to write (-Path, taken literally), -Force to replace one, -PassThru,
/// and -WhatIf/-Confirm around the write, which replaces the file atomically.
/// </summary>
public abstract class ImageExportCmdlet : MlpCmdlet
{
    /// <summary>The PNG file to write, taken literally (no wildcards); an existing file is replaced only with -Force.</summary>
    [Parameter(Mandatory = true, Position = 0)]
    [Alias("LiteralPath", "LP")]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = "";

    /// <summary>Replace an existing file, even a read-only one.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Also write the file, as Get-Item gives it, to the pipeline.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <summary>Draws with <paramref name="draw"/> and writes the file, unless -WhatIf or a declined -Confirm says not to.</summary>
    protected void Export(string description, Func<PngImage> draw)
    {
        string target = ResolvePath(Path);
        bool exists = File.Exists(target);
        if (!ShouldProcess(target, $"Write {description} as PNG{(exists && Force ? ", replacing the existing file" : "")}"))
        {
            return;
        }
        string activity = $"Exporting {System.IO.Path.GetFileName(target)}";
        var time = Stopwatch.StartNew();
        ReportProgress(activity, $"Drawing {description}", 0);
        PngImage image = draw();
        WriteDebug($"Drew {image.Width}x{image.Height} pixels in {time.Elapsed.TotalSeconds:F2} s.");
        ReportProgress(activity, $"Writing {image.Length:N0} bytes", 0.9, force: true);
        image.Save(target, overwrite: Force);
        WriteVerboseTimed($"Wrote {image.Width}x{image.Height} PNG ({image.Length:N0} bytes) to {target}", time);
        if (PassThru)
        {
            WriteFileItem(target);
        }
    }
}
