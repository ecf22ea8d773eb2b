using MlpTools.Core.Platform;
using SkiaSharp;

namespace MlpTools.Core.Data.Images;

/// <summary>
/// Decodes an image file (any format SkiaSharp reads: PNG, JPEG, and others) to grayscale bytes. The file is read
/// into memory first, so an I/O failure is a managed exception here and never happens inside SkiaSharp's native code;
/// the size comes from the codec's header before any pixel is decoded.
/// </summary>
internal static class ImageDecoder
{
    /// <summary>50 megapixels: a large phone photo is 12-48; decoding takes 4 bytes a pixel.</summary>
    public const long MaxSourcePixels = 50_000_000;

    /// <summary>No image within <see cref="MaxSourcePixels"/> needs a bigger file (a 16-bit RGBA PNG stored uncompressed).</summary>
    public const long MaxFileBytes = 512L * 1024 * 1024;

    public static (byte[] Pixels, int Height, int Width) ReadGray(string path)
    {
        string fullPath = Path.GetFullPath(path);
        byte[] bytes = ReadBytes(fullPath);
        ImagingRuntime.EnsureAvailable();
        try
        {
            using var data = SKData.CreateCopy(bytes);
            using var codec = SKCodec.Create(data)
                ?? throw Invalid(fullPath, bytes.Length == 0 ? "it is empty" : "it is not a PNG, JPEG or other image SkiaSharp can read");
            SKImageInfo header = codec.Info;
            if ((long)header.Width * header.Height > MaxSourcePixels)
            {
                throw new MlpToolsException(ErrorIds.ImageTooLarge,
                    $"'{fullPath}' is {header.Width}x{header.Height} pixels, more than the {MaxSourcePixels / 1_000_000} megapixels MlpTools decodes. " +
                    "Scale it down with an image editor first (a digit or a thumbnail needs only a few hundred pixels a side).", fullPath);
            }
            // Unpremultiplied RGBA without a colour space: the file's own values, whatever its format, bit depth or profile.
            var info = new SKImageInfo(header.Width, header.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
            using var bitmap = new SKBitmap(info);
            SKCodecResult result = codec.GetPixels(info, bitmap.GetPixels());
            if (result != SKCodecResult.Success)
            {
                throw Invalid(fullPath, result == SKCodecResult.IncompleteInput ? "it is cut short" : $"its data is damaged ({result})");
            }
            return (ToGray(bitmap.GetPixelSpan()), header.Height, header.Width);
        }
        catch (Exception e) when (e is not (MlpToolsException or OutOfMemoryException))
        {
            // SkiaSharp reports most failures as null or a result code; anything it throws is still about this file.
            throw Invalid(fullPath, e.Message, e);
        }
    }

    /// <summary>
    /// PIL's convert('L') weights (ITU-R 601: 0.299 R + 0.587 G + 0.114 B, in its integer form), so a PyTorch user's
    /// ImageFolder loader sees the same values. A transparent pixel is laid over white first: a drawing on a
    /// transparent background has a light background, as on paper.
    /// </summary>
    private static byte[] ToGray(ReadOnlySpan<byte> rgba)
    {
        var gray = new byte[rgba.Length / 4];
        for (int i = 0; i < gray.Length; i++)
        {
            ReadOnlySpan<byte> pixel = rgba.Slice(4 * i, 4);
            int luma = (pixel[0] * 19595 + pixel[1] * 38470 + pixel[2] * 7471 + 0x8000) >> 16;
            int alpha = pixel[3];
            gray[i] = (byte)(alpha == 255 ? luma : (luma * alpha + 255 * (255 - alpha) + 127) / 255);
        }
        return gray;
    }

    private static byte[] ReadBytes(string fullPath)
    {
        try
        {
            // Folders, devices, FIFOs and link loops are refused before anything is opened (RegularFile).
            using var stream = RegularFile.OpenRead(fullPath, () => NotFound(fullPath, null));
            if (stream.Length > MaxFileBytes)
            {
                throw new MlpToolsException(ErrorIds.ImageTooLarge,
                    $"'{fullPath}' is {stream.Length / (1024 * 1024)} MB, more than any image MlpTools decodes (at most {MaxSourcePixels / 1_000_000} megapixels). " +
                    "Check that it is the image you meant, or scale it down first.", fullPath);
            }
            using var content = new MemoryStream(checked((int)stream.Length));
            stream.CopyTo(content);
            return content.ToArray();
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw NotFound(fullPath, e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new MlpToolsException(ErrorIds.ImageFileUnreadable,
                $"Cannot read the image file '{fullPath}': {e.Message} Check that you may read it and that it is a regular file.", fullPath, e);
        }
    }

    private static MlpToolsException NotFound(string fullPath, Exception? inner) => new(ErrorIds.ImageFileNotFound,
        $"Cannot find the image file '{fullPath}'. Check the path (Get-ChildItem lists what is there).", fullPath, inner);

    private static MlpToolsException Invalid(string fullPath, string reason, Exception? inner = null) =>
        new(ErrorIds.ImageFileInvalid,
            $"'{fullPath}' cannot be read as an image: {reason.TrimEnd('.')}. Open it in an image viewer to check it, and save it again as PNG or JPEG.", fullPath, inner);
}
