using System.Buffers.Binary;
using MlpTools.Core.Data.Images;
using MlpTools.Core.Platform;
using SkiaSharp;
using Xunit;
using static MlpTools.Core.Tests.TestData;

namespace MlpTools.Core.Tests;

public class ImageFilesTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private byte[] ReadPng(string name, int width, int height, Func<int, int, SKColor> color, int targetHeight, int targetWidth,
        ImagePreparation preparation = ImagePreparation.Resize) =>
        ImageFiles.Read(_temp.Write(name, TestImages.Encode(width, height, color)), targetHeight, targetWidth, preparation);

    [Fact]
    public void ColoursBecomeGrayWithPilsWeights()
    {
        // Black frame (a dark background, so nothing is inverted) around red, green / blue, white.
        SKColor[] centre = { SKColors.Red, new SKColor(0, 255, 0), SKColors.Blue, SKColors.White };
        byte[] pixels = ReadPng("colours.png", 4, 4, (x, y) => x is 1 or 2 && y is 1 or 2 ? centre[(y - 1) * 2 + x - 1] : SKColors.Black, 4, 4);
        // PIL's convert('L'): (19595 R + 38470 G + 7471 B + 32768) >> 16, i.e. 0.299 R + 0.587 G + 0.114 B.
        Assert.Equal(new byte[] { 0, 0, 0, 0, 0, 76, 150, 0, 0, 29, 255, 0, 0, 0, 0, 0 }, pixels);
    }

    [Fact]
    public void TransparencyIsLaidOverWhiteSoADrawingOnATransparentBackgroundIsInverted()
    {
        byte[] pixels = ReadPng("drawing.png", 4, 4, (x, y) => x is 1 or 2 && y is 1 or 2 ? SKColors.Black : SKColors.Transparent, 4, 4);
        Assert.Equal(new byte[] { 0, 0, 0, 0, 0, 255, 255, 0, 0, 255, 255, 0, 0, 0, 0, 0 }, pixels);
    }

    [Theory]
    [InlineData(60, 60)]   // dark: kept
    [InlineData(127, 127)]
    [InlineData(128, 127)] // light: inverted, so the background is dark as in MNIST
    [InlineData(200, 55)]
    public void ASolidImageStaysExactlyOneValueAtAnySize(byte gray, byte expected)
    {
        foreach (var (height, width) in new[] { (4, 4), (7, 3), (1, 9), (2, 2), (28, 28) })
        {
            byte[] pixels = ReadPng($"solid-{gray}-{height}x{width}.png", 4, 4, (_, _) => new SKColor(gray, gray, gray), height, width);
            Assert.Equal(Enumerable.Repeat(expected, height * width), pixels);
        }
    }

    [Fact]
    public void ShrinkingAveragesTheAreaEachPixelCovers()
    {
        // 8x4 -> 4x2: each new pixel is the mean of a 2x2 block.
        byte[] source =
        {
            0, 40, 100, 100, 8, 8, 0, 0,
            40, 0, 100, 100, 8, 8, 0, 4,
            255, 255, 12, 0, 0, 0, 0, 0,
            255, 251, 0, 0, 0, 0, 0, 0,
        };
        Assert.Equal(new byte[] { 20, 100, 8, 1, 254, 3, 0, 0 }, ImageFiles.Prepare(source, 4, 8, 2, 4, ImagePreparation.Resize));
    }

    [Fact]
    public void GrowingInterpolatesBetweenPixelCentresAndKeepsTheMeanAndCentreOfMass()
    {
        // A bright 2x2 square in a dark 4x4, doubled: each row and column follows 0, 63.75, 191.25, 255, 255, 191.25, 63.75, 0.
        byte[] source = { 0, 0, 0, 0, 0, 255, 255, 0, 0, 255, 255, 0, 0, 0, 0, 0 };
        byte[] doubled = ImageFiles.Prepare(source, 4, 4, 8, 8, ImagePreparation.Resize);
        double[] profile = { 0, 63.75, 191.25, 255, 255, 191.25, 63.75, 0 };
        for (int y = 0; y < 8; y++)
        {
            for (int x = 0; x < 8; x++)
            {
                Assert.Equal((byte)Math.Round(profile[y] * profile[x] / 255, MidpointRounding.AwayFromZero), doubled[y * 8 + x]);
            }
        }
        Assert.InRange(doubled.Average(v => (double)v) - source.Average(v => (double)v), -0.5, 0.5);
        Assert.Equal((3.5, 3.5), TestImages.CentreOfMass(doubled, 8, 8));
    }

    [Fact]
    public void AJpegReadsAsThePngOfTheSameImage()
    {
        static SKColor Square(int x, int y) => x is >= 2 and < 6 && y is >= 1 and < 5 ? new SKColor(230, 230, 230) : new SKColor(20, 20, 20);
        byte[] png = ReadPng("square.png", 8, 8, Square, 8, 8);
        byte[] jpeg = ImageFiles.Read(_temp.Write("square.JPEG", TestImages.Encode(8, 8, Square, SKEncodedImageFormat.Jpeg)), 8, 8, ImagePreparation.Resize);
        Assert.Equal(230, png[1 * 8 + 2]);
        Assert.All(png.Zip(jpeg), pair => Assert.InRange(pair.Second - pair.First, -4, 4));
    }

    [Fact]
    public void WritePngWritesAnEightBitGrayscalePngThatReadsBackUnchanged()
    {
        byte[] pixels = Enumerable.Range(0, 6 * 5).Select(i => (byte)(i * 8)).ToArray();
        string path = _temp.File("written.png");
        ImageFiles.WritePng(path, pixels, 6, 5);
        byte[] file = File.ReadAllBytes(path);
        // IHDR: width and height big-endian at 16 and 20, bit depth 8 at 24, colour type 0 (grayscale) at 25.
        Assert.Equal((5u, 6u, (byte)8, (byte)0), (BinaryPrimitives.ReadUInt32BigEndian(file.AsSpan(16)), BinaryPrimitives.ReadUInt32BigEndian(file.AsSpan(20)), file[24], file[25]));
        Assert.Equal(pixels, ImageFiles.Read(path, 6, 5, ImagePreparation.Resize));
        Assert.Equal(pixels, ImageFiles.Read(path, 6, 5, ImagePreparation.Digit));
    }

    [Fact]
    public void WritePngRefusesAMissingFolderAndAFolderPath()
    {
        string missing = Path.Combine(_temp.Path, "no-such-folder", "a.png");
        Assert.Equal(missing, Fails("FolderNotFound", () => ImageFiles.WritePng(missing, new byte[4], 2, 2)).Target);
        Fails("PathIsFolder", () => ImageFiles.WritePng(_temp.Path, new byte[4], 2, 2));
        Assert.Empty(Directory.GetFileSystemEntries(_temp.Path));
    }

    // ---- Digit: MNIST's preparation ----

    /// <summary>A black "7" (antialiased strokes 14 px wide) on white, 200x200, off-centre towards the top left.</summary>
    private static byte[] DrawnSeven(int size = 200, SKColor? paper = null, SKColor? ink = null)
    {
        using var surface = SKSurface.Create(new SKImageInfo(size, size, SKColorType.Rgba8888, SKAlphaType.Premul));
        surface.Canvas.Clear(paper ?? SKColors.White);
        using var pen = new SKPaint { Color = ink ?? SKColors.Black, StrokeWidth = 14, IsAntialias = true, Style = SKPaintStyle.Stroke, StrokeCap = SKStrokeCap.Round };
        surface.Canvas.DrawLine(20, 25, 110, 25, pen);
        surface.Canvas.DrawLine(110, 25, 55, 150, pen);
        using SKImage image = surface.Snapshot();
        using SKData png = image.Encode(SKEncodedImageFormat.Png, 100);
        return png.ToArray();
    }

    [Fact]
    public void DigitCropsScalesToTwentyAndCentresByMassLikeMnist()
    {
        byte[] digit = ImageFiles.Read(_temp.Write("seven.png", DrawnSeven()), 28, 28, ImagePreparation.Digit);
        var (top, bottom, left, right) = TestImages.InkBox(digit, 28, 28);
        Assert.Equal(20, Math.Max(bottom - top + 1, right - left + 1));
        var (row, column) = TestImages.CentreOfMass(digit, 28, 28);
        Assert.InRange(row, 13.5, 14.5);
        Assert.InRange(column, 13.5, 14.5);
        Assert.Equal(255, digit.Max()); // ink bright, on a black background
        Assert.InRange(digit.Count(v => v == 0), 28 * 28 / 2, 28 * 28);
        Assert.Equal(0, digit[0]);
    }

    [Fact]
    public void DigitOnGreyNoisyPaperLeavesAClearBackground()
    {
        // A photo's look: grey paper with grain, dark grey ink. Levelling maps the paper to 0 and the ink to 255.
        byte[] clean = ImageFiles.Read(_temp.Write("clean.png", DrawnSeven()), 28, 28, ImagePreparation.Digit);
        var (_, _, rgba) = TestImages.Decode(DrawnSeven(paper: new SKColor(190, 185, 180), ink: new SKColor(60, 60, 70)));
        var grain = new Random(7);
        byte[] photo = TestImages.Encode(200, 200, (x, y) =>
        {
            int noise = grain.Next(-12, 13);
            byte Channel(int c) => (byte)Math.Clamp(rgba[(y * 200 + x) * 4 + c] + noise, 0, 255);
            return new SKColor(Channel(0), Channel(1), Channel(2));
        });
        byte[] digit = ImageFiles.Read(_temp.Write("photo.png", photo), 28, 28, ImagePreparation.Digit);
        Assert.Equal(TestImages.InkBox(clean, 28, 28), TestImages.InkBox(digit, 28, 28));
        Assert.InRange(clean.Zip(digit).Average(p => Math.Abs(p.First - p.Second)), 0, 4);
    }

    [Fact]
    public void DigitScalesTheBoxWithTheField()
    {
        // 14 rows x 42 columns: the box is 10 x 30; a tall digit gets 10 rows.
        byte[] digit = ImageFiles.Read(_temp.Write("seven.png", DrawnSeven()), 14, 42, ImagePreparation.Digit);
        var (top, bottom, _, _) = TestImages.InkBox(digit, 14, 42);
        Assert.Equal(10, bottom - top + 1);
        var (row, column) = TestImages.CentreOfMass(digit, 14, 42);
        Assert.InRange(row, 6.5, 7.5);
        Assert.InRange(column, 20.5, 21.5);
    }

    [Fact]
    public void DigitTakesAnAlreadyPreparedImageAsItIs()
    {
        var random = new Random(3);
        byte[] prepared = Enumerable.Range(0, 28 * 28).Select(i => (byte)(i / 28 is < 3 or > 24 || i % 28 is < 3 or > 24 ? 0 : random.Next(256))).ToArray();
        Assert.Equal(prepared, ImageFiles.Prepare(prepared, 28, 28, 28, 28, ImagePreparation.Digit));
        // The same image with a light background is not prepared yet: it is inverted (and moved, scaled).
        byte[] light = prepared.Select(v => (byte)(255 - v)).ToArray();
        byte[] fromLight = ImageFiles.Prepare(light, 28, 28, 28, 28, ImagePreparation.Digit);
        Assert.All(ImageFiles.Border(28, 28), i => Assert.Equal(0, fromLight[i]));
        Assert.NotEqual(prepared, fromLight);
    }

    [Fact]
    public void DigitOfABlankImageIsBlank()
    {
        Assert.Equal(new byte[28 * 28], ImageFiles.Prepare(Enumerable.Repeat((byte)250, 50 * 40).ToArray(), 50, 40, 28, 28, ImagePreparation.Digit));
    }

    // ---- Files that are not images, and sizes that cannot be ----

    private string WriteDamaged(string name)
    {
        byte[] png = TestImages.Encode(30, 30, (x, y) => new SKColor((byte)(x * 8), (byte)(y * 8), 99));
        return _temp.Write(name, name switch
        {
            "truncated.png" => png[..(png.Length / 2)],
            "random.png" => Enumerable.Range(0, 2000).Select(i => (byte)new Random(i).Next(256)).ToArray(),
            "text.jpg" => "This is a text file, not a JPEG.\n"u8.ToArray(),
            "empty.png" => Array.Empty<byte>(),
            "crc.png" => TestImages.WithPngSize(png, 31, 30, fixChecksum: false),
            _ => throw new ArgumentOutOfRangeException(nameof(name)),
        });
    }

    [Theory]
    [InlineData("truncated.png")] // a PNG cut in half
    [InlineData("random.png")]    // random bytes named .png
    [InlineData("text.jpg")]      // a text file named .jpg
    [InlineData("empty.png")]
    [InlineData("crc.png")]       // a PNG whose header fails its checksum
    public void ADamagedFileOrNotAnImageIsImageFileInvalid(string name)
    {
        string path = WriteDamaged(name);
        var error = Fails("ImageFileInvalid", () => ImageFiles.Read(path, 28, 28, ImagePreparation.Digit));
        Assert.Equal(FailureKind.InvalidData, error.Kind);
        Assert.Equal(path, error.Target);
        Assert.Contains("PNG or JPEG", error.Message);
    }

    [Fact]
    public void AHeaderClaimingAHugeImageIsRefusedBeforeDecoding()
    {
        byte[] png = TestImages.Encode(30, 30, (x, y) => SKColors.Gray);
        string path = _temp.Write("huge.png", TestImages.WithPngSize(png, 100_000, 100_000, fixChecksum: true));
        long before = GC.GetTotalAllocatedBytes(precise: true);
        var error = Fails("ImageTooLarge", () => ImageFiles.Read(path, 28, 28, ImagePreparation.Resize));
        Assert.InRange(GC.GetTotalAllocatedBytes(precise: true) - before, 0, 1 << 20); // 40 GB were claimed
        Assert.Contains("100000x100000", error.Message);
        Assert.Equal(FailureKind.InvalidData, error.Kind);
    }

    [Fact]
    public void AFileLargerThanAnyImageIsRefusedBeforeItIsRead()
    {
        string path = _temp.File("huge.png");
        using (var sparse = new FileStream(path, FileMode.CreateNew))
        {
            sparse.SetLength(512L * 1024 * 1024 + 1); // no disk blocks: a sparse file
        }
        long before = GC.GetTotalAllocatedBytes(precise: true);
        Assert.Contains("512 MB", Fails("ImageTooLarge", () => ImageFiles.Read(path, 28, 28, ImagePreparation.Digit)).Message);
        Assert.InRange(GC.GetTotalAllocatedBytes(precise: true) - before, 0, 1 << 20);
    }

    [Fact]
    public void MissingFilesFoldersAndUnreadableFilesAreNamed()
    {
        string missing = _temp.File("missing.png");
        Assert.Equal(missing, Fails("ImageFileNotFound", () => ImageFiles.Read(missing, 28, 28, ImagePreparation.Digit)).Target);
        Fails("ImageFileNotFound", () => ImageFiles.Read(Path.Combine(_temp.Path, "no-folder", "a.png"), 28, 28, ImagePreparation.Digit));
        Fails("PathIsFolder", () => ImageFiles.Read(_temp.Path, 28, 28, ImagePreparation.Digit));
        if (OperatingSystem.IsLinux())
        {
            // Reading a process's memory from offset 0 fails with EIO: an I/O error while reading, not a missing file.
            Assert.Equal(FailureKind.ResourceUnavailable, Fails("ImageFileUnreadable", () => ImageFiles.Read("/proc/self/mem", 28, 28, ImagePreparation.Digit)).Kind);
        }
    }

    [Theory]
    [InlineData(0, 28)]
    [InlineData(28, 0)]
    [InlineData(-1, 28)]
    [InlineData(4097, 1)]
    [InlineData(1, int.MaxValue)]
    public void SizesOutsideOneTo4096AreImageSizeInvalid(int height, int width)
    {
        // Checked before the file is opened: this one does not exist.
        var error = Fails("ImageSizeInvalid", () => ImageFiles.Read(_temp.File("missing.png"), height, width, ImagePreparation.Resize));
        Assert.Equal(FailureKind.InvalidArgument, error.Kind);
        Fails("ImageSizeInvalid", () => ImageFiles.Prepare(new byte[4], 2, 2, height, width, ImagePreparation.Digit));
        Fails("ImageSizeInvalid", () => ImageFiles.WritePng(_temp.File("never.png"), new byte[4], height, width));
        Assert.Empty(Directory.GetFileSystemEntries(_temp.Path));
    }

    [Fact]
    public void TheLargestSizeWorks()
    {
        Assert.Equal(4096 * 2, ImageFiles.Prepare(new byte[] { 10, 20, 30, 40 }, 2, 2, 4096, 2, ImagePreparation.Resize).Length);
    }
}

/// <summary>Images made with SkiaSharp for the image tests, and measurements of prepared images.</summary>
internal static class TestImages
{
    public static byte[] Encode(int width, int height, Func<int, int, SKColor> color, SKEncodedImageFormat format = SKEncodedImageFormat.Png)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                bitmap.SetPixel(x, y, color(x, y));
            }
        }
        using SKData data = bitmap.Encode(format, 100);
        return data.ToArray();
    }

    /// <summary>An encoded image's unpremultiplied RGBA bytes.</summary>
    public static (int Width, int Height, byte[] Rgba) Decode(byte[] encoded)
    {
        using var decoded = SKBitmap.Decode(encoded);
        using var rgba = decoded.Copy(SKColorType.Rgba8888);
        return (rgba.Width, rgba.Height, rgba.GetPixelSpan().ToArray());
    }

    /// <summary>A PNG whose header claims another size, its checksum recomputed (or left stale).</summary>
    public static byte[] WithPngSize(byte[] png, uint width, uint height, bool fixChecksum)
    {
        byte[] copy = (byte[])png.Clone();
        BinaryPrimitives.WriteUInt32BigEndian(copy.AsSpan(16), width);
        BinaryPrimitives.WriteUInt32BigEndian(copy.AsSpan(20), height);
        if (fixChecksum)
        {
            // The IHDR chunk's CRC-32 covers its type and 13 data bytes (offsets 12-28) and follows them.
            BinaryPrimitives.WriteUInt32BigEndian(copy.AsSpan(29), Crc32(copy.AsSpan(12, 17)));
        }
        return copy;
    }

    private static uint Crc32(ReadOnlySpan<byte> bytes)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in bytes)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320 : crc >> 1;
            }
        }
        return ~crc;
    }

    /// <summary>Centre of mass in pixel indices (row, column): MNIST's lie within half a pixel of (14, 14).</summary>
    public static (double Row, double Column) CentreOfMass(ReadOnlySpan<byte> pixels, int height, int width)
    {
        double mass = 0, rows = 0, columns = 0;
        for (int i = 0; i < height * width; i++)
        {
            mass += pixels[i];
            rows += i / width * pixels[i];
            columns += i % width * pixels[i];
        }
        return (rows / mass, columns / mass);
    }

    /// <summary>The rows and columns that hold any ink (a nonzero pixel).</summary>
    public static (int Top, int Bottom, int Left, int Right) InkBox(ReadOnlySpan<byte> pixels, int height, int width)
    {
        int top = height, bottom = -1, left = width, right = -1;
        for (int i = 0; i < height * width; i++)
        {
            if (pixels[i] > 0)
            {
                (top, bottom, left, right) = (Math.Min(top, i / width), Math.Max(bottom, i / width), Math.Min(left, i % width), Math.Max(right, i % width));
            }
        }
        return (top, bottom, left, right);
    }
}
