namespace MlpTools.Core.Data.Images;

/// <summary>
/// MNIST's preparation of a digit (LeCun, Bottou, Bengio, Haffner 1998): the digit, bright on dark, is cropped to its
/// ink, scaled to fit a 20x20 box keeping its aspect ratio (anti-aliased), and pasted in the 28x28 field so that its
/// centre of mass falls on the middle pixel (14, 14), as in MNIST's own images (their centres of mass lie within
/// half a pixel of it). Other sizes scale the box with the field (20/28 of each side).
/// </summary>
internal static class MnistDigit
{
    /// <summary>After levelling, values below this (a tenth of the ink's strength) are paper grain, shadow or JPEG noise.</summary>
    private const float NoiseFloor = 25.5f;

    /// <summary>Less difference than this between the background and the brightest ink means there is no digit to find.</summary>
    private const float MinimumContrast = 32;

    /// <param name="ink">The image with ink bright (already inverted when its background was light).</param>
    public static float[] Prepare(float[] ink, int sourceHeight, int sourceWidth, int height, int width)
    {
        var field = new float[height * width];
        // Levels: the background (the border's median, robust to a stroke touching the edge) becomes 0 and the
        // brightest ink 255, so a grey photo of paper looks like a scan.
        float background = Median(ImageFiles.Border(sourceHeight, sourceWidth).Select(i => ink[i]).ToArray());
        float peak = ink.Max();
        if (peak - background < MinimumContrast)
        {
            return field;
        }
        float gain = 255 / (peak - background);
        int top = sourceHeight, bottom = -1, left = sourceWidth, right = -1;
        var levelled = new float[ink.Length];
        for (int y = 0; y < sourceHeight; y++)
        {
            for (int x = 0; x < sourceWidth; x++)
            {
                float value = (ink[y * sourceWidth + x] - background) * gain;
                if (value >= NoiseFloor)
                {
                    levelled[y * sourceWidth + x] = Math.Min(value, 255);
                    (top, bottom, left, right) = (Math.Min(top, y), Math.Max(bottom, y), Math.Min(left, x), Math.Max(right, x));
                }
            }
        }
        int cropHeight = bottom - top + 1, cropWidth = right - left + 1;
        var crop = new float[cropHeight * cropWidth];
        for (int y = 0; y < cropHeight; y++)
        {
            Array.Copy(levelled, (top + y) * sourceWidth + left, crop, y * cropWidth, cropWidth);
        }

        int boxHeight = Math.Max(1, (int)Math.Round(height * 20.0 / 28, MidpointRounding.AwayFromZero));
        int boxWidth = Math.Max(1, (int)Math.Round(width * 20.0 / 28, MidpointRounding.AwayFromZero));
        double scale = Math.Min((double)boxHeight / cropHeight, (double)boxWidth / cropWidth);
        int digitHeight = Math.Clamp((int)Math.Round(cropHeight * scale, MidpointRounding.AwayFromZero), 1, boxHeight);
        int digitWidth = Math.Clamp((int)Math.Round(cropWidth * scale, MidpointRounding.AwayFromZero), 1, boxWidth);
        float[] digit = ImageResampler.Resize(crop, cropHeight, cropWidth, digitHeight, digitWidth);
        // Rounded to the bytes it will be, so the centre of mass is placed exactly where the returned image has it.
        for (int i = 0; i < digit.Length; i++)
        {
            digit[i] = MathF.Round(Math.Clamp(digit[i], 0, 255), MidpointRounding.AwayFromZero);
        }

        double mass = 0, rowMoment = 0, columnMoment = 0;
        for (int y = 0; y < digitHeight; y++)
        {
            for (int x = 0; x < digitWidth; x++)
            {
                float value = digit[y * digitWidth + x];
                mass += value;
                rowMoment += y * value;
                columnMoment += x * value;
            }
        }
        // A whole-pixel shift, as MNIST's: a fractional one would blur the digit. Clamped so nothing is cut off.
        int row = Math.Clamp((int)Math.Round(height / 2.0 - rowMoment / mass, MidpointRounding.AwayFromZero), 0, height - digitHeight);
        int column = Math.Clamp((int)Math.Round(width / 2.0 - columnMoment / mass, MidpointRounding.AwayFromZero), 0, width - digitWidth);
        for (int y = 0; y < digitHeight; y++)
        {
            Array.Copy(digit, y * digitWidth, field, (row + y) * width + column, digitWidth);
        }
        return field;
    }

    private static float Median(float[] values)
    {
        Array.Sort(values);
        int middle = values.Length / 2;
        return values.Length % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
    }
}
