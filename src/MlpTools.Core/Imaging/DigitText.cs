using System.Text;
using MlpTools.Core.Data;

namespace MlpTools.Core.Imaging;

/// <summary>
/// A digit drawn with Unicode block characters for the console: each pixel is two characters wide (console cells
/// are about twice as tall as wide) and one of five shades, blank for black up to a full block for white.
/// </summary>
public static class DigitText
{
    /// <summary>The shades from dark to light, and the gray level (0-255) each starts at.</summary>
    public static readonly IReadOnlyList<(char Shade, int From)> Shades = new[] { (' ', 0), ('░', 32), ('▒', 96), ('▓', 160), ('█', 224) };

    public static char Shade(byte gray)
    {
        char shade = ' ';
        foreach (var (character, from) in Shades)
        {
            if (gray >= from)
            {
                shade = character;
            }
        }
        return shade;
    }

    /// <summary>The title line, then one line per pixel row, joined with '\n'; no trailing newline.</summary>
    public static string Render(MlpDataset dataset, DigitTile tile)
    {
        DigitGrid.Validate(dataset, new[] { tile });
        ReadOnlySpan<byte> pixels = dataset.GetImage(tile.Index);
        var text = new StringBuilder();
        text.Append($"[{tile.Index}] {tile.Title}");
        if (tile.Wrong)
        {
            text.Append(" (wrong)");
        }
        for (int row = 0; row < dataset.ImageHeight; row++)
        {
            text.Append('\n');
            for (int column = 0; column < dataset.ImageWidth; column++)
            {
                char shade = Shade(pixels[row * dataset.ImageWidth + column]);
                text.Append(shade).Append(shade);
            }
        }
        return text.ToString();
    }
}
