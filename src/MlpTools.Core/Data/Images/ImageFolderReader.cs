using MlpTools.Core.Platform;

namespace MlpTools.Core.Data.Images;

/// <summary>
/// Reads a folder in torchvision's ImageFolder layout, root/&lt;class&gt;/&lt;image&gt;: one subfolder per class,
/// named after it, holding PNG and JPEG files (.png, .jpg, .jpeg in any case; nested folders are searched too).
/// Classes are the subfolders in ordinal order, as torchvision sorts them, so label indices match a PyTorch user's;
/// a class's files are read in ordinal order of folder, then name. Hidden files and folders (names starting with '.')
/// are ignored; other files are skipped and listed in <see cref="ImageFolderData.SkippedFiles"/>. Every image is
/// prepared with <see cref="ImagePreparation.Resize"/>; one that cannot be read stops the whole read, so a dataset is
/// never half-built.
/// </summary>
public static class ImageFolderReader
{
    private static readonly string[] ImageExtensions = { ".png", ".jpg", ".jpeg" };

    /// <summary>Nested folders deeper than this are not searched, so a symbolic link that loops ends the search.</summary>
    private const int MaxFolderDepth = 16;

    public static ImageFolderData Read(string root, int height, int width, IProgress<double>? progress, CancellationToken cancel)
    {
        ImageFiles.ValidateSize(height, width);
        string fullRoot = Path.GetFullPath(root);
        if (!Directory.Exists(fullRoot))
        {
            throw new MlpToolsException(ErrorIds.FolderNotFound, File.Exists(fullRoot)
                ? $"'{fullRoot}' is a file, not a folder. Give a folder with one subfolder of images per class."
                : $"Cannot find the folder '{fullRoot}'. Check the path; it must hold one subfolder of images per class.", fullRoot);
        }
        var visibleOnly = new EnumerationOptions { AttributesToSkip = FileAttributes.Hidden | FileAttributes.System };
        string[] classFolders = Directory.GetDirectories(fullRoot, "*", visibleOnly).Where(folder => !IsHidden(folder)).Order(StringComparer.Ordinal).ToArray();
        var files = new List<string>();
        var labels = new List<int>();
        var skipped = new List<string>();
        var emptyClasses = new List<string>();
        var recursive = new EnumerationOptions { AttributesToSkip = visibleOnly.AttributesToSkip, RecurseSubdirectories = true, MaxRecursionDepth = MaxFolderDepth };
        for (int label = 0; label < classFolders.Length; label++)
        {
            string classFolder = classFolders[label];
            string[] inClass = Directory.GetFiles(classFolder, "*", recursive)
                .Where(file => !Path.GetRelativePath(classFolder, file).Split(Path.DirectorySeparatorChar).Any(part => part.StartsWith('.')))
                .OrderBy(Path.GetDirectoryName, StringComparer.Ordinal).ThenBy(Path.GetFileName, StringComparer.Ordinal)
                .ToArray();
            string[] images = inClass.Where(IsImage).ToArray();
            skipped.AddRange(inClass.Where(file => !IsImage(file)));
            if (images.Length == 0)
            {
                emptyClasses.Add(classFolder);
            }
            files.AddRange(images);
            labels.AddRange(Enumerable.Repeat(label, images.Length));
        }
        CheckContents(fullRoot, classFolders, files.Count, emptyClasses, visibleOnly);

        long imageSize = (long)height * width;
        if (files.Count * imageSize > Array.MaxLength)
        {
            throw new MlpToolsException(ErrorIds.ImageFolderTooLarge,
                $"'{fullRoot}' holds {files.Count:N0} images; at {height}x{width} they would take {files.Count * imageSize:N0} bytes, more than one dataset holds ({Array.MaxLength:N0}). " +
                "Choose a smaller image size, or split the folder into parts.", fullRoot);
        }
        var pixels = new byte[files.Count * imageSize];
        for (int i = 0; i < files.Count; i++)
        {
            cancel.ThrowIfCancellationRequested();
            ImageFiles.Read(files[i], height, width, ImagePreparation.Resize).CopyTo(pixels, i * imageSize);
            progress?.Report((i + 1) / (double)files.Count);
        }
        return new ImageFolderData(pixels, labels.ToArray(), classFolders.Select(folder => Path.GetFileName(folder)).ToArray(), files.ToArray(), height, width)
        {
            SkippedFiles = skipped.ToArray(),
        };
    }

    /// <summary>Refuses a folder a dataset cannot be made of, before any image is decoded.</summary>
    private static void CheckContents(string fullRoot, string[] classFolders, int imageCount, List<string> emptyClasses, EnumerationOptions visibleOnly)
    {
        if (classFolders.Length == 0 || imageCount == 0)
        {
            string found = classFolders.Length > 0
                ? $"has {classFolders.Length} subfolder(s) but no PNG or JPEG file in them"
                : Directory.GetFiles(fullRoot, "*", visibleOnly).Count(IsImage) is int loose and > 0
                    ? $"has no class subfolders, only {loose} image(s) directly in it"
                    : "has no class subfolders";
            throw new MlpToolsException(ErrorIds.ImageFolderEmpty,
                $"'{fullRoot}' {found}. Put the images of each class in a subfolder named after the class " +
                $"({Path.Combine("root", "cat", "1.png")}, {Path.Combine("root", "dog", "2.jpg")}), as torchvision's ImageFolder expects.", fullRoot);
        }
        if (emptyClasses.Count > 0)
        {
            throw new MlpToolsException(ErrorIds.ImageFolderClassEmpty,
                $"The class folder(s) '{string.Join("', '", emptyClasses)}' hold no PNG or JPEG file, so their class would have no example. " +
                "Add images to them, or move them out of the dataset folder.", emptyClasses[0]);
        }
    }

    private static bool IsHidden(string path) => Path.GetFileName(path).StartsWith('.');

    private static bool IsImage(string path) => ImageExtensions.Contains(Path.GetExtension(path), StringComparer.OrdinalIgnoreCase);
}
