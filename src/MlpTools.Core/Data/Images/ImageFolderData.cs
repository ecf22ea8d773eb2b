namespace MlpTools.Core.Data.Images;

/// <summary>
/// The images of a class-per-subfolder folder, read and prepared: <see cref="Pixels"/> holds one image of
/// <see cref="Height"/> x <see cref="Width"/> grayscale bytes after another (0 background, 255 full ink), in the order of
/// <see cref="Files"/>; <see cref="LabelIndices"/> index <see cref="ClassNames"/>.
/// </summary>
public sealed record ImageFolderData(
    byte[] Pixels, int[] LabelIndices, IReadOnlyList<string> ClassNames, IReadOnlyList<string> Files, int Height, int Width)
{
    /// <summary>Files in the class folders that are not PNG or JPEG (by extension) and were left out; hidden files are not listed.</summary>
    public IReadOnlyList<string> SkippedFiles { get; init; } = Array.Empty<string>();
}
