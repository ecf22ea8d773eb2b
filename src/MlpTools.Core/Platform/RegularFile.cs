using System.Runtime.InteropServices;

namespace MlpTools.Core.Platform;

/// <summary>
/// The one place that decides whether a path may be read or written, used by every reader and writer: only regular
/// files (symbolic links to one are followed), never folders, devices, FIFOs or sockets, and a symbolic-link loop is
/// an error. The type is checked with stat() before anything is opened or renamed, because opening a FIFO blocks
/// until a writer appears (Ctrl+C cannot end that) and renaming a file over /dev/null replaces the device. Between
/// that check and the open there is a window in which another process could swap the path; only a process that
/// may write to the folder can do so.
/// </summary>
internal static class RegularFile
{
    /// <summary>What a path names, as stat() sees it (symbolic links followed).</summary>
    internal enum Kind { Missing, Regular, Folder, CharacterDevice, BlockDevice, Fifo, Socket, LinkLoop, Unknown }

    // POSIX file-type bits as .NET's System.Native reports them (it maps each platform's values to these).
    private const int TypeMask = 0xF000, FifoType = 0x1000, CharacterDeviceType = 0x2000, FolderType = 0x4000,
        BlockDeviceType = 0x6000, RegularType = 0x8000, SocketType = 0xC000;
    private const int NoSuchEntry = 2, NotPermitted = 1, AlreadyExists = 17, NotAFolder = 20, NotSupportedOnLinux = 95, NotSupportedOnMac = 45;
    private const int ChunkBytes = 1 << 20;
    private static bool _nativeUnavailable = OperatingSystem.IsWindows();

    /// <summary>
    /// Whether a regular file is at <paramref name="fullPath"/> (false: nothing is there). Throws PathIsFolder,
    /// NotARegularFile or SymbolicLinkLoop for anything else; <paramref name="folderHint"/> completes the folder message.
    /// </summary>
    public static bool Exists(string fullPath, string? folderHint = null)
    {
        Kind kind = Inspect(fullPath);
        return kind switch
        {
            Kind.Missing => false,
            Kind.Regular or Kind.Unknown => true,
            Kind.Folder => throw new MlpToolsException(ErrorIds.PathIsFolder,
                $"'{fullPath}' is a folder, not a file. {folderHint ?? "Give the path of a file."}", fullPath),
            Kind.LinkLoop => throw new MlpToolsException(ErrorIds.SymbolicLinkLoop,
                $"'{fullPath}' is a symbolic link that never reaches a file (a loop, or too many links in a row). " +
                "Point the link at a file, or give the file's own path.", fullPath),
            _ => throw new MlpToolsException(ErrorIds.NotARegularFile,
                $"'{fullPath}' is a {Describe(kind)}, not a regular file. MlpTools reads and writes only regular files, " +
                "so it neither waits on a pipe nor replaces a device; give the path of a file.", fullPath),
        };
    }

    /// <summary>Opens a file for reading after <see cref="Exists"/> found it regular; <paramref name="notFound"/> when nothing is there.</summary>
    public static FileStream OpenRead(string fullPath, Func<MlpToolsException> notFound)
    {
        if (!Exists(fullPath))
        {
            throw notFound();
        }
        // FileShare.Delete too, so that a writer replacing the file meanwhile is not blocked on Windows.
        return new FileStream(fullPath, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, bufferSize: 1 << 16);
    }

    /// <summary>Reads <paramref name="buffer"/> full in chunks, checking <paramref name="cancel"/> between them; returns the bytes read (fewer at the end of the stream).</summary>
    public static int ReadChunked(Stream stream, Span<byte> buffer, CancellationToken cancel)
    {
        int filled = 0;
        while (filled < buffer.Length)
        {
            cancel.ThrowIfCancellationRequested();
            int read = stream.Read(buffer.Slice(filled, Math.Min(ChunkBytes, buffer.Length - filled)));
            if (read == 0)
            {
                break;
            }
            filled += read;
        }
        return filled;
    }

    /// <summary>
    /// Makes the finished <paramref name="temporary"/> file visible as <paramref name="fullPath"/> only if nothing is
    /// there at that moment, in one step that no other writer can slip between: link() fails when the name is taken.
    /// (File.Move without overwrite checks and then renames, so two writers can both succeed.) Returns false when the
    /// name is taken; the temporary file is then left for the caller to delete.
    /// </summary>
    public static bool PublishIfAbsent(string temporary, string fullPath)
    {
        if (!_nativeUnavailable)
        {
            try
            {
                if (Link(temporary, fullPath) == 0)
                {
                    File.Delete(temporary);
                    return true;
                }
                int error = Marshal.GetLastPInvokeError();
                if (error == AlreadyExists)
                {
                    return false;
                }
                // Anything but a file system without hard links (FAT, some network shares) is an error to report.
                if (error is not (NotPermitted or NotSupportedOnLinux or NotSupportedOnMac))
                {
                    throw new IOException(Marshal.GetPInvokeErrorMessage(error));
                }
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                _nativeUnavailable = true;
            }
        }
        // Windows' move without replacing is one step already; elsewhere this is the best that is left.
        try
        {
            File.Move(temporary, fullPath, overwrite: false);
            return true;
        }
        catch (IOException) when (Inspect(fullPath) != Kind.Missing)
        {
            return false;
        }
    }

    /// <summary>The error of a write that failed part-way (full disk, permissions): the same id from every writer.</summary>
    public static MlpToolsException WriteFailed(string fullPath, Exception cause, string outcome) => new(ErrorIds.FileWriteFailed,
        $"Could not write '{fullPath}': {cause.Message} {outcome} Check that the folder is writable and the disk has space, then try again.", fullPath, cause);

    /// <summary>The error of a write into a folder that does not exist: the same id from every writer.</summary>
    public static MlpToolsException FolderNotFound(string fullPath, string folder) => new(ErrorIds.FolderNotFound,
        $"Cannot write '{fullPath}': the folder '{folder}' does not exist. Create it first (New-Item -ItemType Directory) or choose another path.", fullPath);

    internal static Kind Inspect(string fullPath)
    {
        if (!_nativeUnavailable)
        {
            try
            {
                var status = new byte[512];
                if (Stat(fullPath, status) == 0)
                {
                    return (BitConverter.ToInt32(status, 4) & TypeMask) switch
                    {
                        RegularType => Kind.Regular,
                        FolderType => Kind.Folder,
                        CharacterDeviceType => Kind.CharacterDevice,
                        BlockDeviceType => Kind.BlockDevice,
                        FifoType => Kind.Fifo,
                        SocketType => Kind.Socket,
                        _ => Kind.Unknown,
                    };
                }
                int error = Marshal.GetLastPInvokeError();
                return error is NoSuchEntry or NotAFolder ? Kind.Missing
                    : error == (OperatingSystem.IsMacOS() ? 62 : 40) ? Kind.LinkLoop // ELOOP
                    : Kind.Unknown; // e.g. permission denied: opening it reports that
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                // A host without .NET's System.Native (a single-file app): fall back to what .NET's file API offers.
                _nativeUnavailable = true;
            }
        }
        return Directory.Exists(fullPath) ? Kind.Folder : File.Exists(fullPath) ? Kind.Regular : Kind.Missing;
    }

    private static string Describe(Kind kind) => kind switch
    {
        Kind.CharacterDevice => "character device",
        Kind.BlockDevice => "block device",
        Kind.Fifo => "FIFO (named pipe)",
        Kind.Socket => "socket",
        _ => "special file",
    };

    // .NET's own stat() wrapper: its FileStatus starts with Flags and Mode (two int32s) on every Unix, whatever the
    // platform's struct stat looks like. The buffer is larger than the struct, so later fields can only grow into it.
    [DllImport("libSystem.Native", EntryPoint = "SystemNative_Link", SetLastError = true)]
    private static extern int Link([MarshalAs(UnmanagedType.LPUTF8Str)] string source, [MarshalAs(UnmanagedType.LPUTF8Str)] string link);

    [DllImport("libSystem.Native", EntryPoint = "SystemNative_Stat", SetLastError = true)]
    private static extern int Stat([MarshalAs(UnmanagedType.LPUTF8Str)] string path, [Out] byte[] status);
}
