using System.Management.Automation;
using MlpTools.Core.Imaging;

namespace MlpTools.Commands;

/// <summary>
/// What the picture cmdlets share: the PNG file to write (-Path, relative to the current location), -PassThru,
/// and -WhatIf/-Confirm around the write, which replaces the file atomically.
/// </summary>
public abstract class ImageExportCmdlet : MlpCmdlet
{
    /// <summary>The PNG file to write; an existing file is replaced. Taken literally: no wildcards.</summary>
    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = "";

    /// <summary>Also write the file's FileInfo to the pipeline.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <summary>Draws with <paramref name="draw"/> and writes the file, unless -WhatIf or a declined -Confirm says not to.</summary>
    protected void Export(string description, Func<PngImage> draw)
    {
        string target = ResolvePath(Path);
        if (!ShouldProcess(target, $"Write {description} as PNG"))
        {
            return;
        }
        PngImage image = draw();
        image.Save(target);
        WriteVerbose($"Wrote {image.Width}x{image.Height} PNG ({image.Length} bytes) to {target}.");
        if (PassThru)
        {
            WriteObject(new FileInfo(target));
        }
    }
}
