namespace MlpTools.Core.Data.Images;

/// <summary>
/// Resizes a grayscale image held as floats, one axis at a time: area averaging along an axis that shrinks (each new
/// pixel is the mean of the old pixels it covers, as OpenCV's INTER_AREA, so thin strokes fade instead of vanishing)
/// and bilinear interpolation, centres aligned, along one that grows. Managed code, so the result is the same on every
/// machine; a solid colour stays exactly that colour and a same-size resize returns the image unchanged.
/// </summary>
internal static class ImageResampler
{
    public static float[] Resize(float[] source, int sourceHeight, int sourceWidth, int height, int width)
    {
        Tap[][] columns = Taps(sourceWidth, width);
        Tap[][] rows = Taps(sourceHeight, height);
        var horizontal = new float[sourceHeight * width];
        for (int y = 0; y < sourceHeight; y++)
        {
            for (int x = 0; x < width; x++)
            {
                float sum = 0;
                foreach (Tap tap in columns[x])
                {
                    sum += tap.Weight * source[y * sourceWidth + tap.Index];
                }
                horizontal[y * width + x] = sum;
            }
        }
        var result = new float[height * width];
        for (int y = 0; y < height; y++)
        {
            foreach (Tap tap in rows[y])
            {
                for (int x = 0; x < width; x++)
                {
                    result[y * width + x] += tap.Weight * horizontal[tap.Index * width + x];
                }
            }
        }
        return result;
    }

    private readonly record struct Tap(int Index, float Weight);

    /// <summary>For each of the <paramref name="length"/> new positions along an axis, the old positions it reads and their weights (summing to 1).</summary>
    private static Tap[][] Taps(int sourceLength, int length)
    {
        double scale = (double)sourceLength / length;
        var taps = new Tap[length][];
        for (int i = 0; i < length; i++)
        {
            if (scale >= 1)
            {
                double start = i * scale, end = (i + 1) * scale;
                int first = (int)Math.Floor(start), last = Math.Min(sourceLength - 1, (int)Math.Ceiling(end) - 1);
                taps[i] = Enumerable.Range(first, last - first + 1)
                    .Select(j => new Tap(j, (float)((Math.Min(end, j + 1) - Math.Max(start, j)) / scale)))
                    .ToArray();
            }
            else
            {
                double centre = Math.Clamp((i + 0.5) * scale - 0.5, 0, sourceLength - 1);
                int left = (int)Math.Floor(centre);
                float fraction = (float)(centre - left);
                taps[i] = left == sourceLength - 1 || fraction == 0
                    ? new[] { new Tap(left, 1f) }
                    : new[] { new Tap(left, 1 - fraction), new Tap(left + 1, fraction) };
            }
        }
        return taps;
    }
}
