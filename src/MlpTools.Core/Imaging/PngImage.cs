using MlpTools.Core.Platform;
using MlpTools.Core.Persistence;
using SkiaSharp;

namespace MlpTools.Core.Imaging;

/// <summary>
/// A finished picture: PNG bytes and their size. Keeps SkiaSharp's types out of the engine's public surface, so
/// the cmdlets (in PowerShell's load context) never need to resolve SkiaSharp themselves.
/// </summary>
public sealed class PngImage
{
    private readonly byte[] _bytes;

    private PngImage(int width, int height, byte[] bytes)
    {
        Width = width;
        Height = height;
        _bytes = bytes;
    }

    public int Width { get; }
    public int Height { get; }
    public int Length => _bytes.Length;

    public byte[] ToArray() => (byte[])_bytes.Clone();

    /// <summary>
    /// Writes the file atomically, as model files are written: into a temporary file in the same folder, flushed to
    /// the disk, then renamed over the target, so a reader never sees half a picture and a failed write leaves any
    /// earlier file as it was. An existing file is refused (ModelFileExists, as Export-Mlp) unless
    /// <paramref name="overwrite"/>; only a regular file is replaced, never a folder, a device or a FIFO.
    /// </summary>
    public void Save(string path, bool overwrite = false)
    {
        string full = Path.GetFullPath(path);
        AtomicFile.Write(full, stream => stream.Write(_bytes), refuseExisting: overwrite ? null : ModelFileErrors.Exists,
            replaceReadOnly: overwrite, folderHint: $"Give the path of the PNG file to write, e.g. '{Path.Combine(full, "picture.png")}'.");
    }

    /// <summary>Encodes what was drawn on <paramref name="surface"/>.</summary>
    internal static PngImage From(SKSurface surface, int width, int height)
    {
        using SKImage image = surface.Snapshot();
        using SKData data = image.Encode(SKEncodedImageFormat.Png, 100);
        return new PngImage(width, height, data.ToArray());
    }

    /// <summary>A white canvas of the given size; draw on it, then pass it to <see cref="From"/>.</summary>
    internal static SKSurface NewSurface(int width, int height)
    {
        if (width < 1 || height < 1 || (long)width * height > MaxPixels)
        {
            throw new MlpToolsException(ErrorIds.ImageSizeInvalid,
                $"A picture of {width}x{height} pixels cannot be drawn: each side must be at least 1 and the whole at most {MaxPixels:N0} pixels.", $"{width}x{height}");
        }
        ImagingRuntime.EnsureAvailable();
        var surface = SKSurface.Create(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul))
            ?? throw new MlpToolsException(ErrorIds.ImageAllocationFailed,
                $"SkiaSharp could not create a {width}x{height} picture: the machine may lack the memory for it. Free memory or draw a smaller picture.");
        surface.Canvas.Clear(SKColors.White);
        return surface;
    }

    /// <summary>100 megapixels: far beyond any useful chart, well below what would exhaust memory.</summary>
    internal const long MaxPixels = 100_000_000;
}
