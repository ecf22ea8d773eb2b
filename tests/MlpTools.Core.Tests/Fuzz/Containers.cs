using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace MlpTools.Core.Tests.Fuzz;

/// <summary>One entry of a zip built by <see cref="Zip.Build"/>: its name, the bytes as stored, and what the headers declare.</summary>
internal sealed record ZipItem(string Name, byte[] Data, ushort Method, uint Crc, long DeclaredSize)
{
    public static ZipItem Stored(string name, byte[] content) => new(name, content, 0, Crc32.Of(content), content.Length);

    public static ZipItem Deflated(string name, byte[] content) => new(name, Containers.Deflate(content), 8, Crc32.Of(content), content.Length);
}

/// <summary>
/// A zip writer and reader of our own, so that the fuzzer can build what System.IO.Compression refuses to write (duplicate
/// names, sizes that lie, deflate bombs) and find every header field to damage. Timestamps are fixed so seeds are replayable.
/// </summary>
internal static class Zip
{
    public const uint LocalSignature = 0x04034b50, CentralSignature = 0x02014b50, EndSignature = 0x06054b50;
    private const ushort FixedTime = 0, FixedDate = (1 << 5) | 1 | (40 << 9); // 2020-01-01 00:00

    /// <summary>A header field: where it is, how wide, and what it is called in a failure report.</summary>
    public sealed record Field(string Name, int Offset, int Width);

    public static readonly (string Record, Field[] Fields) Local = ("local header", new Field[]
    {
        new("signature", 0, 4), new("version", 4, 2), new("flags", 6, 2), new("method", 8, 2), new("crc", 14, 4),
        new("compressed size", 18, 4), new("size", 22, 4), new("name length", 26, 2), new("extra length", 28, 2),
    });

    public static readonly (string Record, Field[] Fields) Central = ("central header", new Field[]
    {
        new("signature", 0, 4), new("version needed", 6, 2), new("flags", 8, 2), new("method", 10, 2), new("crc", 16, 4),
        new("compressed size", 20, 4), new("size", 24, 4), new("name length", 28, 2), new("extra length", 30, 2),
        new("comment length", 32, 2), new("disk", 34, 2), new("local header offset", 42, 4),
    });

    public static readonly (string Record, Field[] Fields) End = ("end of central directory", new Field[]
    {
        new("signature", 0, 4), new("disk", 4, 2), new("directory disk", 6, 2), new("entries on disk", 8, 2),
        new("entries", 10, 2), new("directory size", 12, 4), new("directory offset", 16, 4), new("comment length", 20, 2),
    });

    public static byte[] Build(IEnumerable<ZipItem> items)
    {
        using var zip = new MemoryStream();
        using var central = new MemoryStream();
        int count = 0;
        foreach (var item in items)
        {
            long offset = zip.Position;
            byte[] name = Encoding.UTF8.GetBytes(item.Name);
            uint declared = (uint)Math.Min(item.DeclaredSize, uint.MaxValue);
            var local = new byte[30];
            BinaryPrimitives.WriteUInt32LittleEndian(local, LocalSignature);
            BinaryPrimitives.WriteUInt16LittleEndian(local.AsSpan(4), 20);
            BinaryPrimitives.WriteUInt16LittleEndian(local.AsSpan(8), item.Method);
            BinaryPrimitives.WriteUInt16LittleEndian(local.AsSpan(10), FixedTime);
            BinaryPrimitives.WriteUInt16LittleEndian(local.AsSpan(12), FixedDate);
            BinaryPrimitives.WriteUInt32LittleEndian(local.AsSpan(14), item.Crc);
            BinaryPrimitives.WriteUInt32LittleEndian(local.AsSpan(18), (uint)item.Data.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(local.AsSpan(22), declared);
            BinaryPrimitives.WriteUInt16LittleEndian(local.AsSpan(26), (ushort)name.Length);
            zip.Write(local);
            zip.Write(name);
            zip.Write(item.Data);

            var header = new byte[46];
            BinaryPrimitives.WriteUInt32LittleEndian(header, CentralSignature);
            BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(4), 20);
            local.AsSpan(4, 26).CopyTo(header.AsSpan(6));
            BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(42), (uint)offset);
            central.Write(header);
            central.Write(name);
            count++;
        }
        long directoryOffset = zip.Position;
        central.Position = 0;
        central.CopyTo(zip);
        var end = new byte[22];
        BinaryPrimitives.WriteUInt32LittleEndian(end, EndSignature);
        BinaryPrimitives.WriteUInt16LittleEndian(end.AsSpan(8), (ushort)count);
        BinaryPrimitives.WriteUInt16LittleEndian(end.AsSpan(10), (ushort)count);
        BinaryPrimitives.WriteUInt32LittleEndian(end.AsSpan(12), (uint)central.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(end.AsSpan(16), (uint)directoryOffset);
        zip.Write(end);
        return zip.ToArray();
    }

    /// <summary>The entries of an intact zip in order, with their content and whether they were deflated.</summary>
    public static List<(string Name, byte[] Content, bool Deflated)> Read(byte[] zip)
    {
        using var archive = new ZipArchive(new MemoryStream(zip, writable: false), ZipArchiveMode.Read);
        return archive.Entries.Select(e =>
        {
            using var content = new MemoryStream();
            using (var stream = e.Open())
            {
                stream.CopyTo(content);
            }
            return (e.FullName, content.ToArray(), e.CompressedLength != e.Length);
        }).ToList();
    }

    /// <summary>The same entries rebuilt with our writer (fixed timestamps, same compression).</summary>
    public static byte[] Rebuild(IEnumerable<(string Name, byte[] Content, bool Deflated)> entries) =>
        Build(entries.Select(e => e.Deflated ? ZipItem.Deflated(e.Name, e.Content) : ZipItem.Stored(e.Name, e.Content)));

    /// <summary>Where each header record of an intact zip starts: every local header, every central header, the end record.</summary>
    public static List<(string Record, Field[] Fields, int Offset)> Records(byte[] zip)
    {
        int end = zip.Length - 22;
        while (end >= 0 && BinaryPrimitives.ReadUInt32LittleEndian(zip.AsSpan(end)) != EndSignature)
        {
            end--;
        }
        var records = new List<(string, Field[], int)> { (End.Record, End.Fields, end) };
        int count = BinaryPrimitives.ReadUInt16LittleEndian(zip.AsSpan(end + 10));
        int position = (int)BinaryPrimitives.ReadUInt32LittleEndian(zip.AsSpan(end + 16));
        for (int i = 0; i < count; i++)
        {
            records.Add((Central.Record, Central.Fields, position));
            records.Add((Local.Record, Local.Fields, (int)BinaryPrimitives.ReadUInt32LittleEndian(zip.AsSpan(position + 42))));
            position += 46 + BinaryPrimitives.ReadUInt16LittleEndian(zip.AsSpan(position + 28)) +
                BinaryPrimitives.ReadUInt16LittleEndian(zip.AsSpan(position + 30)) + BinaryPrimitives.ReadUInt16LittleEndian(zip.AsSpan(position + 32));
        }
        return records;
    }
}

internal static class Containers
{
    public static byte[] Deflate(byte[] content)
    {
        if (content.Length == 0)
        {
            return new byte[] { 0x03, 0x00 }; // an empty final block: DeflateStream writes nothing at all for no input
        }
        using var buffer = new MemoryStream();
        using (var deflate = new DeflateStream(buffer, CompressionLevel.Optimal, leaveOpen: true))
        {
            deflate.Write(content);
        }
        return buffer.ToArray();
    }

    /// <summary>
    /// A deflate stream of <paramref name="prefix"/> and then <paramref name="zeros"/> zero bytes, built in milliseconds
    /// whatever the length: one MiB of zeros deflated up to a sync flush (a byte-aligned, non-final block) is repeated, then
    /// a final block ends the stream. Every back-reference stays within a run of zeros, so the repeats are valid.
    /// </summary>
    public static byte[] DeflatedZeros(long zeros, byte[]? prefix = null)
    {
        const int Chunk = 1 << 20;
        byte[] block = SyncFlushed(new byte[Chunk], CompressionLevel.SmallestSize);
        using var result = new MemoryStream();
        result.Write(SyncFlushed(prefix ?? Array.Empty<byte>(), CompressionLevel.Fastest));
        for (long i = 0; i < zeros / Chunk; i++)
        {
            result.Write(block);
        }
        result.Write(Deflate(new byte[zeros % Chunk]));
        return result.ToArray();
    }

    /// <summary>Deflated <paramref name="content"/> as non-final blocks ending on a byte boundary, so another deflate stream can follow.</summary>
    private static byte[] SyncFlushed(byte[] content, CompressionLevel level)
    {
        using var buffer = new MemoryStream();
        using var deflate = new DeflateStream(buffer, level, leaveOpen: true);
        deflate.Write(content);
        deflate.Flush();
        return buffer.ToArray();
    }

    /// <summary>A gzip member around a raw deflate stream; <paramref name="size"/> and <paramref name="crc"/> go to the trailer.</summary>
    public static byte[] GzipMember(byte[] deflated, uint crc, long size)
    {
        var member = new byte[10 + deflated.Length + 8];
        new byte[] { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff }.CopyTo(member, 0);
        deflated.CopyTo(member, 10);
        BinaryPrimitives.WriteUInt32LittleEndian(member.AsSpan(10 + deflated.Length), crc);
        BinaryPrimitives.WriteUInt32LittleEndian(member.AsSpan(14 + deflated.Length), (uint)size);
        return member;
    }
}

/// <summary>CRC-32 (IEEE), as zip and gzip use it.</summary>
internal static class Crc32
{
    private static readonly uint[] Table = Enumerable.Range(0, 256).Select(n =>
    {
        uint c = (uint)n;
        for (int k = 0; k < 8; k++)
        {
            c = (c & 1) != 0 ? 0xEDB88320 ^ (c >> 1) : c >> 1;
        }
        return c;
    }).ToArray();

    public static uint Of(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc = Table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        }
        return ~crc;
    }
}
