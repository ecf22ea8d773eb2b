using MlpTools.Core.Data;
using MlpTools.Core.Platform;
using SkiaSharp;

namespace MlpTools.Core.Imaging;

/// <summary>One image of a grid: where it is in its dataset, its label and, when known, the model's answer.</summary>
public sealed record DigitTile(int Index, int Label, int? Predicted = null)
{
    /// <summary>The notebook's subplot title: "Pred:x, Label:y", or "Label:y" when nothing was predicted.</summary>
    public string Title => Predicted is int predicted ? $"Pred:{predicted}, Label:{Label}" : $"Label:{Label}";

    /// <summary>A prediction that differs from the label; drawn in red.</summary>
    public bool Wrong => Predicted is int predicted && predicted != Label;
}

/// <summary>
/// The lecture notebook's picture of test digits: images in a grid, white on black as matplotlib's gray colormap
/// shows them, each under its "Pred:x, Label:y" title; wrong answers get a red title and a red frame.
/// </summary>
public static class DigitGrid
{
    /// <summary>Space around each image, in pixels.</summary>
    public const int Padding = 6;
    /// <summary>Height of the title strip above each image, in pixels.</summary>
    public const int TitleHeight = 20;
    private const float LargestTitleFont = 14f;
    private const float FrameWidth = 3f;
    private static readonly SKColor WrongColor = new(0xD3, 0x2F, 0x2F);

    /// <summary>The picture's size in pixels for <paramref name="count"/> images of <paramref name="imageHeight"/>x<paramref name="imageWidth"/>.</summary>
    public static (int Width, int Height) Size(int count, int columns, int imageHeight, int imageWidth, int scale)
    {
        int used = Math.Max(1, Math.Min(columns, count));
        int rows = Math.Max(1, (count + used - 1) / used);
        return (used * (imageWidth * scale + 2 * Padding), rows * (TitleHeight + imageHeight * scale + 2 * Padding));
    }

    /// <summary>Checks every tile against <paramref name="dataset"/> before anything is drawn.</summary>
    public static void Validate(MlpDataset dataset, IReadOnlyList<DigitTile> tiles)
    {
        if (tiles.Count == 0)
        {
            throw new MlpToolsException(ErrorIds.ImageInputEmpty,
                "There are no images to draw. Pipe predictions from Invoke-MlpPrediction, or give -Index.");
        }
        foreach (DigitTile tile in tiles)
        {
            if (tile.Index < 0 || tile.Index >= dataset.Count)
            {
                throw new MlpToolsException(ErrorIds.DatasetIndexOutOfRange,
                    $"Index {tile.Index} is outside dataset '{dataset.Name}' ({dataset.Split}), which has images 0 to {dataset.Count - 1}. " +
                    "Pass the dataset the predictions were made on.", tile.Index);
            }
            if (dataset.GetLabel(tile.Index) != tile.Label)
            {
                throw new MlpToolsException(ErrorIds.PredictionDatasetMismatch,
                    $"The prediction for image {tile.Index} has label {tile.Label}, but image {tile.Index} of dataset '{dataset.Name}' ({dataset.Split}) is labelled {dataset.GetLabel(tile.Index)}. " +
                    "Pass the dataset the predictions were made on.", tile);
            }
        }
    }

    public static PngImage Render(MlpDataset dataset, IReadOnlyList<DigitTile> tiles, int columns = 5, int scale = 4)
    {
        if (columns < 1 || scale < 1)
        {
            throw new MlpToolsException(ErrorIds.ImageSizeInvalid,
                $"A grid needs at least 1 column and a scale of at least 1, not {columns} columns at scale {scale}.", columns < 1 ? columns : scale);
        }
        Validate(dataset, tiles);
        var (width, height) = Size(tiles.Count, columns, dataset.ImageHeight, dataset.ImageWidth, scale);
        int used = Math.Min(columns, tiles.Count);
        int cellWidth = dataset.ImageWidth * scale + 2 * Padding;
        int cellHeight = TitleHeight + dataset.ImageHeight * scale + 2 * Padding;

        using SKSurface surface = PngImage.NewSurface(width, height);
        SKCanvas canvas = surface.Canvas;
        using SKTypeface typeface = ImagingRuntime.Typeface();
        for (int i = 0; i < tiles.Count; i++)
        {
            float left = i % used * cellWidth;
            float top = i / used * cellHeight;
            DrawTitle(canvas, typeface, tiles[i], left, top, cellWidth);
            var image = new SKRect(left + Padding, top + Padding + TitleHeight,
                left + Padding + dataset.ImageWidth * scale, top + Padding + TitleHeight + dataset.ImageHeight * scale);
            DrawDigit(canvas, dataset.GetImage(tiles[i].Index), dataset.ImageWidth, image, scale);
            if (tiles[i].Wrong)
            {
                using var frame = new SKPaint { Color = WrongColor, Style = SKPaintStyle.Stroke, StrokeWidth = FrameWidth };
                canvas.DrawRect(SKRect.Inflate(image, FrameWidth / 2, FrameWidth / 2), frame);
            }
        }
        return PngImage.From(surface, width, height);
    }

    private static void DrawTitle(SKCanvas canvas, SKTypeface typeface, DigitTile tile, float left, float top, int cellWidth)
    {
        using var font = new SKFont(typeface, LargestTitleFont) { Edging = SKFontEdging.Antialias };
        // Shrink the title until it fits over the image (small scales, long class numbers).
        float room = cellWidth - 2f;
        float measured = font.MeasureText(tile.Title);
        if (measured > room)
        {
            font.Size = Math.Max(4f, LargestTitleFont * room / measured);
        }
        using var paint = new SKPaint { Color = tile.Wrong ? WrongColor : SKColors.Black, IsAntialias = true };
        float baseline = top + Padding + (TitleHeight + font.Size * 0.7f) / 2;
        canvas.DrawText(tile.Title, left + cellWidth / 2f, baseline, SKTextAlign.Center, font, paint);
    }

    /// <summary>Each pixel as a <paramref name="scale"/>-sized square: gray level = the byte, 0 black, 255 white.</summary>
    private static void DrawDigit(SKCanvas canvas, ReadOnlySpan<byte> pixels, int imageWidth, SKRect area, int scale)
    {
        using var paint = new SKPaint { IsAntialias = false };
        for (int i = 0; i < pixels.Length; i++)
        {
            paint.Color = new SKColor(pixels[i], pixels[i], pixels[i]);
            float x = area.Left + i % imageWidth * scale;
            float y = area.Top + i / imageWidth * scale;
            canvas.DrawRect(x, y, scale, scale, paint);
        }
    }
}
