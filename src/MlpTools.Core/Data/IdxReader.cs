using System.IO.Compression;

namespace MlpTools.Core.Data;

/// <summary>An IDX file's content: its dimensions and its unsigned-byte payload.</summary>
public sealed record IdxContent(int[] Dimensions, byte[] Data);

/// <summary>
/// Reads IDX files (the format MNIST ships in), raw or gzip-compressed, checking every header
/// field against the file before anything large is allocated.
/// </summary>
public static class IdxReader
{
    private const byte UnsignedByteType = 0x08;
    private static readonly byte[] GzipMagic = { 0x1f, 0x8b };

    public static IdxContent Read(string path, int expectedDimensionCount)
    {
        if (Directory.Exists(path))
        {
            throw new MlpToolsException("IdxPathIsDirectory", FailureKind.InvalidArgument,
                $"'{path}' is a directory, not an IDX file. Give the path of the file itself, or the folder that holds the four MNIST files with -Path.", path);
        }
        if (!File.Exists(path))
        {
            throw new MlpToolsException("IdxFileNotFound", FailureKind.ObjectNotFound, $"IDX file '{path}' does not exist.", path);
        }

        try
        {
            using var file = File.OpenRead(path);
            bool compressed = IsGzip(file);
            using Stream stream = compressed ? new GZipStream(file, CompressionMode.Decompress) : file;
            // A raw file's length bounds what its header may claim; a gzip stream's length is unknown until read.
            long? available = compressed ? null : file.Length;
            IdxContent content = Read(stream, available, expectedDimensionCount, path);
            if (compressed)
            {
                EnsureGzipComplete(file, stream, 4L + 4L * expectedDimensionCount + content.Data.Length, path);
            }
            return content;
        }
        catch (InvalidDataException e)
        {
            throw new MlpToolsException("IdxGzipInvalid", FailureKind.InvalidData,
                $"'{path}' looks gzip-compressed but cannot be decompressed ({e.Message}). Delete it and get the file again.", path, e);
        }
    }

    /// <summary>
    /// A gzip file cut short in its 8-byte trailer still inflates to every byte, because GZipStream does not check the
    /// trailer; the trailer's ISIZE (the uncompressed length mod 2^32) must match what was read, or the file is damaged.
    /// </summary>
    private static void EnsureGzipComplete(FileStream file, Stream gzip, long consumed, string path)
    {
        var buffer = new byte[81920];
        long total = consumed;
        int read;
        while ((read = gzip.Read(buffer)) > 0)
        {
            total += read;
        }
        Span<byte> trailer = stackalloc byte[4];
        bool complete = file.Length >= 18;
        if (complete)
        {
            file.Position = file.Length - 4;
            complete = file.ReadAtLeast(trailer, 4, throwOnEndOfStream: false) == 4 &&
                System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(trailer) == (uint)(total & 0xFFFFFFFF);
        }
        if (!complete)
        {
            throw new MlpToolsException("IdxGzipInvalid", FailureKind.InvalidData,
                $"'{path}' is a damaged gzip file: its trailer does not match the {total} bytes it inflates to, so it was probably cut short. " +
                "Delete it and get the file again.", path);
        }
    }

    /// <summary>Whether a seekable stream starts with the gzip magic; leaves it at position 0.</summary>
    internal static bool IsGzip(Stream file)
    {
        Span<byte> magic = stackalloc byte[2];
        int read = file.ReadAtLeast(magic, 2, throwOnEndOfStream: false);
        file.Position = 0;
        return read == 2 && magic.SequenceEqual(GzipMagic);
    }

    /// <summary>Only the header's dimensions, without reading the data: cheap enough for a report on a folder of files.</summary>
    public static int[] ReadDimensions(string path, int expectedDimensionCount)
    {
        try
        {
            using var file = File.OpenRead(path);
            using Stream stream = IsGzip(file) ? new GZipStream(file, CompressionMode.Decompress) : file;
            return ReadHeader(stream, expectedDimensionCount, path).Dimensions;
        }
        catch (InvalidDataException e)
        {
            throw new MlpToolsException("IdxGzipInvalid", FailureKind.InvalidData,
                $"'{path}' looks gzip-compressed but cannot be decompressed ({e.Message}). Delete it and get the file again.", path, e);
        }
    }

    /// <param name="available">Bytes the stream holds, when known, so a lying header is caught before allocation.</param>
    public static IdxContent Read(Stream stream, long? available, int expectedDimensionCount, string name)
    {
        var (dimensions, payload) = ReadHeader(stream, expectedDimensionCount, name);
        long headerLength = 4 + 4L * expectedDimensionCount;
        if (available is long length && length - headerLength < payload)
        {
            throw new MlpToolsException("IdxFileTruncated", FailureKind.InvalidData,
                $"'{name}' is truncated: its header claims {string.Join('x', dimensions)} = {payload} bytes of data but the file holds " +
                $"{Math.Max(0, length - headerLength)}. Delete it and get the file again.", name);
        }

        return new IdxContent(dimensions, available is null ? ReadGrowing(stream, (int)payload, name) : ReadAll(stream, (int)payload, name));
    }

    /// <summary>The magic number and dimensions, checked; returns them with the payload size they claim.</summary>
    private static (int[] Dimensions, long Payload) ReadHeader(Stream stream, int expectedDimensionCount, string name)
    {
        Span<byte> magic = stackalloc byte[4];
        ReadExactly(stream, magic, name, "header");
        if (magic[0] != 0 || magic[1] != 0 || magic[2] != UnsignedByteType || magic[3] != expectedDimensionCount)
        {
            throw new MlpToolsException("IdxHeaderInvalid", FailureKind.InvalidData,
                $"'{name}' is not an IDX file of unsigned bytes with {expectedDimensionCount} dimension(s): its magic number is " +
                $"0x{magic[0]:x2}{magic[1]:x2}{magic[2]:x2}{magic[3]:x2}, expected 0x0000{UnsignedByteType:x2}{expectedDimensionCount:x2}. " +
                "Check that images and labels files are not swapped and that the file is not damaged.", name);
        }

        var dimensions = new int[expectedDimensionCount];
        Span<byte> field = stackalloc byte[4];
        long payload = 1;
        for (int i = 0; i < dimensions.Length; i++)
        {
            ReadExactly(stream, field, name, "header");
            uint size = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(field);
            if (size > int.MaxValue)
            {
                throw HeaderClaimsTooMuch(name, $"dimension {i} is {size}");
            }
            dimensions[i] = (int)size;
            payload *= size;
            if (payload > Array.MaxLength)
            {
                throw HeaderClaimsTooMuch(name, $"its dimensions {string.Join('x', dimensions[..(i + 1)])} exceed {Array.MaxLength} bytes");
            }
        }

        return (dimensions, payload);
    }

    private static byte[] ReadAll(Stream stream, int length, string name)
    {
        var data = new byte[length];
        ReadExactly(stream, data, name, "data");
        return data;
    }

    /// <summary>
    /// For streams of unknown length (gzip): the buffer grows only as data actually arrives, so a header
    /// that lies about its size cannot make us allocate what it claims.
    /// </summary>
    private static byte[] ReadGrowing(Stream stream, int length, string name)
    {
        var data = new byte[Math.Min(length, 1 << 20)];
        int filled = 0;
        while (filled < length)
        {
            if (filled == data.Length)
            {
                Array.Resize(ref data, (int)Math.Min(length, 2L * data.Length));
            }
            int read = stream.Read(data, filled, data.Length - filled);
            if (read == 0)
            {
                throw new MlpToolsException("IdxFileTruncated", FailureKind.InvalidData,
                    $"'{name}' is truncated: its data ends after {filled} of {length} expected bytes. Delete it and get the file again.", name);
            }
            filled += read;
        }
        return data;
    }

    private static MlpToolsException HeaderClaimsTooMuch(string name, string detail) =>
        new("IdxHeaderInvalid", FailureKind.InvalidData, $"'{name}' has an impossible IDX header: {detail}. The file is damaged or not an IDX file.", name);

    private static void ReadExactly(Stream stream, Span<byte> buffer, string name, string part)
    {
        int read = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
        if (read < buffer.Length)
        {
            throw new MlpToolsException("IdxFileTruncated", FailureKind.InvalidData,
                $"'{name}' is truncated: its {part} ends after {read} of {buffer.Length} expected bytes. Delete it and get the file again.", name);
        }
    }
}
