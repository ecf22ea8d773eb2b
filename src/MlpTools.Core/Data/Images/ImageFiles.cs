using MlpTools.Core.Platform;
using SkiaSharp;

namespace MlpTools.Core.Data.Images;

/// <summary>
/// One image file as a model's input: grayscale bytes row by row, 0 background and 255 full ink as in MNIST, at the
/// model's height and width. SkiaSharp decodes and encodes; everything after decoding is managed code, so the same
/// file gives the same bytes on every machine.
/// </summary>
public static class ImageFiles
{
    /// <summary>The largest height or width an image is prepared at: far beyond any model input, small enough to allocate.</summary>
    public const int MaxSide = 4096;

    public static byte[] Read(string path, int height, int width, ImagePreparation preparation)
    {
        ValidateSize(height, width);
        var (gray, sourceHeight, sourceWidth) = ImageDecoder.ReadGray(path);
        return Prepare(gray, sourceHeight, sourceWidth, height, width, preparation);
    }

    /// <summary>
    /// What <see cref="Read"/> does after decoding: <paramref name="gray"/> is a decoded image's grayscale bytes as the
    /// file holds them (ink dark or bright), <paramref name="sourceHeight"/> x <paramref name="sourceWidth"/>.
    /// </summary>
    public static byte[] Prepare(ReadOnlySpan<byte> gray, int sourceHeight, int sourceWidth, int height, int width, ImagePreparation preparation)
    {
        ValidateSize(height, width);
        if (sourceHeight < 1 || sourceWidth < 1 || gray.Length != (long)sourceHeight * sourceWidth)
        {
            throw new ArgumentException($"{gray.Length} bytes are not an image of {sourceHeight}x{sourceWidth} pixels.", nameof(gray));
        }
        bool lightBackground = BorderMean(gray, sourceHeight, sourceWidth) > 127.5;
        if (preparation == ImagePreparation.Digit && sourceHeight == height && sourceWidth == width && !lightBackground)
        {
            // Already prepared (an MNIST image saved as a file): preparing it again would move and rescale it.
            return gray.ToArray();
        }
        var ink = new float[gray.Length];
        for (int i = 0; i < ink.Length; i++)
        {
            ink[i] = lightBackground ? 255 - gray[i] : gray[i];
        }
        float[] prepared = preparation == ImagePreparation.Digit
            ? MnistDigit.Prepare(ink, sourceHeight, sourceWidth, height, width)
            : ImageResampler.Resize(ink, sourceHeight, sourceWidth, height, width);
        return ToBytes(prepared);
    }

    /// <summary>The same, for callers that hold an array (PowerShell cannot pass a span).</summary>
    public static void WritePng(string path, byte[] pixels, int height, int width) => WritePng(path, pixels.AsSpan(), height, width);

    /// <summary>Writes a dataset image as an 8-bit grayscale PNG (bright ink on black, as stored).</summary>
    public static void WritePng(string path, ReadOnlySpan<byte> pixels, int height, int width)
    {
        ValidateSize(height, width);
        if (pixels.Length != height * width)
        {
            throw new ArgumentException($"{pixels.Length} bytes are not an image of {height}x{width} pixels.", nameof(pixels));
        }
        ImagingRuntime.EnsureAvailable();
        byte[] png;
        using (var image = SKImage.FromPixelCopy(new SKImageInfo(width, height, SKColorType.Gray8, SKAlphaType.Opaque), pixels, width))
        using (SKData data = image.Encode(SKEncodedImageFormat.Png, 100))
        {
            png = data.ToArray();
        }
        // The same atomic, regular-files-only write as model files and pictures: one set of error ids for every writer.
        AtomicFile.Write(path, stream => stream.Write(png), folderHint: "Give the path of the PNG file to write, e.g. 'image.png' inside it.");
    }

    internal static void ValidateSize(int height, int width)
    {
        if (height is < 1 or > MaxSide || width is < 1 or > MaxSide)
        {
            throw new MlpToolsException(ErrorIds.ImageSizeInvalid,
                $"Images cannot be prepared at {height}x{width} pixels: height and width must each be 1 to {MaxSide}. " +
                "Use the size the model was trained on (28x28 for MNIST).", $"{height}x{width}");
        }
    }

    /// <summary>The mean of the outermost rows and columns: the background's brightness for a picture of one thing.</summary>
    private static double BorderMean(ReadOnlySpan<byte> gray, int height, int width)
    {
        long sum = 0;
        List<int> border = Border(height, width);
        foreach (int i in border)
        {
            sum += gray[i];
        }
        return (double)sum / border.Count;
    }

    /// <summary>The indices of the pixels in the first and last rows and columns, each once.</summary>
    internal static List<int> Border(int height, int width)
    {
        var border = new List<int>(2 * (height + width));
        for (int y = 0; y < height; y++)
        {
            bool edgeRow = y == 0 || y == height - 1;
            for (int x = 0; x < width; x += edgeRow || width == 1 ? 1 : width - 1)
            {
                border.Add(y * width + x);
            }
        }
        return border;
    }

    private static byte[] ToBytes(float[] values)
    {
        var bytes = new byte[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            bytes[i] = (byte)Math.Clamp(MathF.Round(values[i], MidpointRounding.AwayFromZero), 0, 255);
        }
        return bytes;
    }
}
