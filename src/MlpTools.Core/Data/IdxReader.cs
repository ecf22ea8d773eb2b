using System.Buffers.Binary;
using System.IO.Compression;
using MlpTools.Core.Platform;

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

    /// <param name="cancel">Checked between chunks of the read, so a stop request ends even the read of a large file.</param>
    public static IdxContent Read(string path, int expectedDimensionCount, CancellationToken cancel = default)
    {
        try
        {
            using var file = Open(path);
            bool compressed = IsGzip(file);
            using Stream stream = compressed ? new GZipStream(file, CompressionMode.Decompress) : file;
            // A raw file's length bounds what its header may claim; a gzip stream's length is unknown until read.
            long? available = compressed ? null : file.Length;
            IdxContent content = Read(stream, available, expectedDimensionCount, path, cancel);
            if (compressed)
            {
                EnsureGzipComplete(file, stream, content, path, cancel);
            }
            return content;
        }
        catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            throw Unreadable(path, e);
        }
    }

    private static MlpToolsException Unreadable(string path, Exception e) => e is InvalidDataException
        ? new(ErrorIds.IdxGzipInvalid,
            $"'{path}' looks gzip-compressed but cannot be decompressed ({e.Message}). Delete it and get the file again.", path, e)
        : new(ErrorIds.IdxFileReadFailed,
            $"Could not read '{path}': {e.Message} Check its permissions and the disk, then try again.", path, e);

    /// <summary>Opens an IDX file, refusing a folder, a FIFO, a device or a link loop before anything is opened.</summary>
    private static FileStream Open(string path) => RegularFile.OpenRead(path, () =>
        new MlpToolsException(ErrorIds.IdxFileNotFound, $"IDX file '{path}' does not exist.", path));

    /// <summary>
    /// A gzip file cut short in its 8-byte trailer still inflates to every byte, because GZipStream does not notice that
    /// the last member's trailer is missing (it checks the CRC-32 and length of every member that ends). So the file's
    /// last 8 bytes must be a real trailer: the CRC-32 and length (mod 2^32) of the last member, which is the whole
    /// content for a file of one member, or its tail for several members one after the other (cat a.gz b.gz).
    /// </summary>
    private static void EnsureGzipComplete(FileStream file, Stream gzip, IdxContent content, string path, CancellationToken cancel)
    {
        byte[] header = HeaderBytes(content.Dimensions);
        using var rest = new MemoryStream();
        var buffer = new byte[81920];
        int read;
        while ((read = gzip.Read(buffer)) > 0)
        {
            cancel.ThrowIfCancellationRequested();
            rest.Write(buffer, 0, read);
            if (rest.Length > MaxBytesAfterData)
            {
                throw new MlpToolsException(ErrorIds.IdxGzipInvalid,
                    $"'{path}' inflates to more than {MaxBytesAfterData} bytes beyond the data its IDX header describes, so it is not an IDX file. " +
                    "Delete it and get the file again.", path);
            }
        }
        long total = header.Length + content.Data.Length + rest.Length;
        Span<byte> trailer = stackalloc byte[8];
        bool complete = file.Length >= 18;
        if (complete)
        {
            file.Position = file.Length - 8;
            complete = file.ReadAtLeast(trailer, 8, throwOnEndOfStream: false) == 8;
        }
        if (complete)
        {
            uint crc = BinaryPrimitives.ReadUInt32LittleEndian(trailer);
            uint lastMemberLength = BinaryPrimitives.ReadUInt32LittleEndian(trailer[4..]);
            complete = lastMemberLength == (uint)(total & 0xFFFFFFFF) ||
                (lastMemberLength < total && Crc32Of(total - lastMemberLength, header, content.Data, rest.GetBuffer().AsSpan(0, (int)rest.Length)) == crc);
        }
        if (!complete)
        {
            throw new MlpToolsException(ErrorIds.IdxGzipInvalid,
                $"'{path}' is a damaged gzip file: its trailer does not match the {total} bytes it inflates to, so it was probably cut short. " +
                "Delete it and get the file again.", path);
        }
    }

    /// <summary>What a gzip file may hold after the data its IDX header describes (an IDX file holds nothing there).</summary>
    private const int MaxBytesAfterData = 16 << 20;

    private static byte[] HeaderBytes(int[] dimensions)
    {
        var header = new byte[4 + 4 * dimensions.Length];
        header[2] = UnsignedByteType;
        header[3] = (byte)dimensions.Length;
        for (int i = 0; i < dimensions.Length; i++)
        {
            BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(4 + 4 * i), (uint)dimensions[i]);
        }
        return header;
    }

    private static readonly uint[] CrcTable = Enumerable.Range(0, 256).Select(n =>
    {
        uint c = (uint)n;
        for (int k = 0; k < 8; k++)
        {
            c = (c & 1) != 0 ? 0xEDB88320 ^ (c >> 1) : c >> 1;
        }
        return c;
    }).ToArray();

    /// <summary>gzip's CRC-32 of the three parts taken as one, from byte <paramref name="start"/> on.</summary>
    private static uint Crc32Of(long start, ReadOnlySpan<byte> header, ReadOnlySpan<byte> data, ReadOnlySpan<byte> rest)
    {
        uint crc = 0xFFFFFFFF;
        crc = Crc32Update(crc, Skip(header, ref start));
        crc = Crc32Update(crc, Skip(data, ref start));
        crc = Crc32Update(crc, Skip(rest, ref start));
        return ~crc;
    }

    /// <summary>The part of <paramref name="part"/> after the first <paramref name="start"/> bytes; lowers <paramref name="start"/> by what was skipped.</summary>
    private static ReadOnlySpan<byte> Skip(ReadOnlySpan<byte> part, ref long start)
    {
        int skipped = (int)Math.Min(start, part.Length);
        start -= skipped;
        return part[skipped..];
    }

    private static uint Crc32Update(uint crc, ReadOnlySpan<byte> bytes)
    {
        foreach (byte b in bytes)
        {
            crc = CrcTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
        }
        return crc;
    }

    /// <summary>Whether a seekable stream starts with the gzip magic; leaves it at position 0.</summary>
    internal static bool IsGzip(Stream file)
    {
        Span<byte> magic = stackalloc byte[2];
        int read = file.ReadAtLeast(magic, 2, throwOnEndOfStream: false);
        file.Position = 0;
        return read == 2 && magic.SequenceEqual(GzipMagic);
    }

    /// <summary>Whether the file is gzip-compressed (its length then says nothing about what it inflates to).</summary>
    public static bool IsCompressed(string path)
    {
        using var file = Open(path);
        return IsGzip(file);
    }

    /// <summary>Only the header's dimensions, without reading the data: cheap enough for a report on a folder of files.</summary>
    public static int[] ReadDimensions(string path, int expectedDimensionCount)
    {
        try
        {
            using var file = Open(path);
            using Stream stream = IsGzip(file) ? new GZipStream(file, CompressionMode.Decompress) : file;
            return ReadHeader(stream, expectedDimensionCount, path).Dimensions;
        }
        catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            throw Unreadable(path, e);
        }
    }

    /// <param name="available">Bytes the stream holds, when known, so a lying header is caught before allocation.</param>
    public static IdxContent Read(Stream stream, long? available, int expectedDimensionCount, string name, CancellationToken cancel = default)
    {
        var (dimensions, payload) = ReadHeader(stream, expectedDimensionCount, name);
        long headerLength = 4 + 4L * expectedDimensionCount;
        if (available is long length && length - headerLength < payload)
        {
            throw new MlpToolsException(ErrorIds.IdxFileTruncated,
                $"'{name}' is truncated: its header claims {string.Join('x', dimensions)} = {payload} bytes of data but the file holds " +
                $"{Math.Max(0, length - headerLength)}. Delete it and get the file again.", name);
        }

        return new IdxContent(dimensions, available is null ? ReadGrowing(stream, (int)payload, name, cancel) : ReadAll(stream, (int)payload, name, cancel));
    }

    /// <summary>The magic number and dimensions, checked; returns them with the payload size they claim.</summary>
    private static (int[] Dimensions, long Payload) ReadHeader(Stream stream, int expectedDimensionCount, string name)
    {
        Span<byte> magic = stackalloc byte[4];
        ReadExactly(stream, magic, name, "header");
        if (magic[0] != 0 || magic[1] != 0 || magic[2] != UnsignedByteType || magic[3] != expectedDimensionCount)
        {
            throw new MlpToolsException(ErrorIds.IdxHeaderInvalid,
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
            uint size = BinaryPrimitives.ReadUInt32BigEndian(field);
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

    private static byte[] ReadAll(Stream stream, int length, string name, CancellationToken cancel)
    {
        var data = new byte[length];
        int read = RegularFile.ReadChunked(stream, data, cancel);
        if (read < length)
        {
            throw Truncated(name, "data", read, length);
        }
        return data;
    }

    /// <summary>
    /// For streams of unknown length (gzip): the buffer grows only as data actually arrives, so a header
    /// that lies about its size cannot make us allocate what it claims.
    /// </summary>
    private static byte[] ReadGrowing(Stream stream, int length, string name, CancellationToken cancel)
    {
        var data = new byte[Math.Min(length, 1 << 20)];
        int filled = 0;
        while (filled < length)
        {
            if (filled == data.Length)
            {
                Array.Resize(ref data, (int)Math.Min(length, 2L * data.Length));
            }
            cancel.ThrowIfCancellationRequested();
            int read = stream.Read(data, filled, data.Length - filled);
            if (read == 0)
            {
                throw Truncated(name, "data", filled, length);
            }
            filled += read;
        }
        return data;
    }

    private static MlpToolsException HeaderClaimsTooMuch(string name, string detail) =>
        new(ErrorIds.IdxHeaderInvalid, $"'{name}' has an impossible IDX header: {detail}. The file is damaged or not an IDX file.", name);

    private static void ReadExactly(Stream stream, Span<byte> buffer, string name, string part)
    {
        int read = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
        if (read < buffer.Length)
        {
            throw Truncated(name, part, read, buffer.Length);
        }
    }

    private static MlpToolsException Truncated(string name, string part, long read, long expected) => new(ErrorIds.IdxFileTruncated,
        $"'{name}' is truncated: its {part} ends after {read} of {expected} expected bytes. Delete it and get the file again.", name);
}
