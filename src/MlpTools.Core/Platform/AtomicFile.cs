using System.Security.Cryptography;

namespace MlpTools.Core.Platform;

/// <summary>
/// Writes a file so that readers only ever see the old file or the complete new one: the content goes to a temporary
/// file in the same folder, is flushed to the disk, and then renamed over the target in one step. A crash, a kill or a
/// full disk part-way leaves the old file as it was (and at worst a stray '.tmp' file next to it). Used by every writer
/// (model files, checkpoints, pictures, downloads), so each fault has one error id whatever is written.
/// </summary>
internal static class AtomicFile
{
    /// <summary>The temporary files' suffix; a leftover one (from a process killed mid-write) can be deleted.</summary>
    public const string TemporarySuffix = ".tmp";

    /// <summary>Characters of the target's name kept in a temporary name: enough to tell whose it is, short enough for any name limit.</summary>
    private const int NameCharactersKept = 64;

    /// <param name="refuseExisting">
    /// When given, the write fails with this error if a file is at <paramref name="path"/> at the moment the new one would
    /// be published (the publish is create-exclusive, so of several writers at once exactly one succeeds); when null, an
    /// existing file is replaced.
    /// </param>
    /// <param name="replaceReadOnly">Replace a read-only file too (clears its read-only attribute first).</param>
    /// <param name="folderHint">Completes the PathIsFolder message when <paramref name="path"/> is a folder.</param>
    public static void Write(string path, Action<Stream> write, Func<string, MlpToolsException>? refuseExisting = null,
        bool replaceReadOnly = false, string? folderHint = null)
    {
        string fullPath = Path.GetFullPath(path);
        string folder = Path.GetDirectoryName(fullPath) ?? ".";
        if (!Directory.Exists(folder))
        {
            throw RegularFile.FolderNotFound(fullPath, folder);
        }
        bool existed = RegularFile.Exists(fullPath, folderHint);
        if (existed && refuseExisting is not null)
        {
            throw refuseExisting(fullPath);
        }
        string temporary = TemporaryPath(folder, Path.GetFileName(fullPath));
        try
        {
            var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
            try
            {
                write(stream);
                // Data on the disk before the rename makes it visible: otherwise a power cut could leave a renamed but empty file.
                stream.Flush(flushToDisk: true);
            }
            catch
            {
                // Closing flushes what is still buffered, which fails again on a full disk: that second error must not
                // replace the first.
                try
                {
                    stream.Dispose();
                }
                catch (IOException)
                {
                }
                throw;
            }
            stream.Dispose();
            if (refuseExisting is null)
            {
                // Checked again just before the rename, which would replace a device or FIFO put there meanwhile.
                existed = RegularFile.Exists(fullPath, folderHint);
                if (replaceReadOnly && existed && File.GetAttributes(fullPath).HasFlag(FileAttributes.ReadOnly))
                {
                    File.SetAttributes(fullPath, File.GetAttributes(fullPath) & ~FileAttributes.ReadOnly);
                }
                File.Move(temporary, fullPath, overwrite: true);
            }
            else if (!RegularFile.PublishIfAbsent(temporary, fullPath))
            {
                // Not check-then-rename: the publish itself failed because a file appeared meanwhile.
                throw refuseExisting(fullPath);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(temporary);
            throw RegularFile.WriteFailed(fullPath, e, existed ? "The file is unchanged." : "Nothing was written (the file did not exist).");
        }
        catch
        {
            TryDelete(temporary);
            throw;
        }
    }

    /// <summary>
    /// A new temporary name in <paramref name="folder"/>: hidden (dot-prefixed), the start of <paramref name="forName"/>
    /// (so a leftover says whose it was) and a random part, well under the 255 bytes a file name may have.
    /// </summary>
    public static string TemporaryPath(string folder, string forName)
    {
        int kept = Math.Min(forName.Length, NameCharactersKept);
        if (kept > 0 && char.IsHighSurrogate(forName[kept - 1]))
        {
            kept--;
        }
        return Path.Combine(folder, $".{forName[..kept]}.{Convert.ToHexString(RandomNumberGenerator.GetBytes(6)).ToLowerInvariant()}{TemporarySuffix}");
    }

    /// <summary>Best effort: a stray temporary file is harmless, and the error that brought us here is the one to report.</summary>
    public static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Nothing more to do; never let this mask the original failure.
        }
    }
}
