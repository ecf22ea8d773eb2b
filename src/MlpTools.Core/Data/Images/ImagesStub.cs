// STUB of the images helper's API, replaced by its branch at merge.
namespace MlpTools.Core.Data.Images;

public enum ImagePreparation { Resize, Digit }
public sealed record ImageFolderData(byte[] Pixels, int[] LabelIndices, IReadOnlyList<string> ClassNames, IReadOnlyList<string> Files, int Height, int Width);
public static class ImageFolderReader
{
    public static ImageFolderData Read(string root, int height, int width, IProgress<double>? progress, CancellationToken cancel) => throw new NotImplementedException();
}
public static class ImageFiles
{
    public static byte[] Read(string path, int height, int width, ImagePreparation preparation) => throw new NotImplementedException();
    public static void WritePng(string path, ReadOnlySpan<byte> pixels, int height, int width) => throw new NotImplementedException();
}
