namespace MlpTools.Core.Persistence;

/// <summary>
/// Writes a file so that readers only ever see the old file or the complete new one: the content goes to a temporary
/// file in the same folder, is flushed to the disk, and then renamed over the target in one step. A crash, a kill or a
/// full disk part-way leaves the old file as it was (and at worst a stray '.tmp' file next to it).
/// </summary>
internal static class AtomicFile
{
    /// <summary>The temporary files' suffix; a leftover one (from a process killed mid-write) can be deleted.</summary>
    public const string TemporarySuffix = ".tmp";

    public static void Write(string path, Action<Stream> write, bool replaceReadOnly = false)
    {
        string fullPath = Path.GetFullPath(path);
        string folder = Path.GetDirectoryName(fullPath) ?? ".";
        if (!Directory.Exists(folder))
        {
            throw new MlpToolsException("ModelFileFolderNotFound", FailureKind.ObjectNotFound,
                $"Cannot write '{fullPath}': the folder '{folder}' does not exist. Create it first, for example with New-Item -ItemType Directory.", fullPath);
        }
        if (Directory.Exists(fullPath))
        {
            throw new MlpToolsException("ModelFileIsFolder", FailureKind.InvalidArgument,
                $"Cannot write '{fullPath}': it is a folder. Give the path of a file.", fullPath);
        }
        // Hidden (dot-prefixed) and unique, so two writers never share one and a directory listing stays tidy.
        string temporary = Path.Combine(folder, $".{Path.GetFileName(fullPath)}.{Guid.NewGuid():N}{TemporarySuffix}");
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                write(stream);
                // Data on the disk before the rename makes it visible: otherwise a power cut could leave a renamed but empty file.
                stream.Flush(flushToDisk: true);
            }
            if (replaceReadOnly && File.Exists(fullPath) && File.GetAttributes(fullPath).HasFlag(FileAttributes.ReadOnly))
            {
                File.SetAttributes(fullPath, File.GetAttributes(fullPath) & ~FileAttributes.ReadOnly);
            }
            File.Move(temporary, fullPath, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(temporary);
            throw new MlpToolsException("ModelFileWriteFailed", FailureKind.WriteError,
                $"Could not write '{fullPath}': {e.Message} The file is unchanged{(File.Exists(fullPath) ? "" : " (it did not exist)")}. " +
                "Check that the folder is writable and the disk has space, then try again.", fullPath, e);
        }
        catch
        {
            TryDelete(temporary);
            throw;
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Best effort: a stray temporary file is harmless, and the original error is the one to report.
        }
    }
}
