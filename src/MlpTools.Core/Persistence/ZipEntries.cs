using System.IO.Compression;

namespace MlpTools.Core.Persistence;

/// <summary>
/// Reading the zip archives that MlpTools and PyTorch files are: entries whose names leave no doubt which one is meant,
/// read to exactly their expected length and checked against their CRC-32, which System.IO.Compression does not verify.
/// </summary>
internal static class ZipEntries
{
    /// <summary>
    /// Opens <paramref name="stream"/> as a zip archive, refusing one in which two entries have the same name: .NET takes
    /// the first of them, unzip and Python the last, so such a file means different things to different readers.
    /// </summary>
    public static ZipArchive Open(Stream stream, string path)
    {
        var zip = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (ZipArchiveEntry entry in zip.Entries)
        {
            if (!seen.Add(entry.FullName))
            {
                zip.Dispose();
                throw ModelFileErrors.Unsafe(path,
                    $"it holds two zip entries named '{entry.FullName}', and zip readers disagree about which one counts. Write the file again from its source.");
            }
        }
        return zip;
    }

    /// <summary>
    /// Reads an entry whole. It must claim at most <paramref name="maxBytes"/> (checked before anything is inflated),
    /// inflate to exactly the length its header claims (reading stops one byte past it) and match its CRC-32.
    /// </summary>
    public static byte[] Read(ZipArchiveEntry entry, long maxBytes, string path)
    {
        if (entry.Length > maxBytes)
        {
            throw ModelFileErrors.Corrupt(path, $"its entry '{entry.FullName}' claims {entry.Length} bytes, more than the model it describes can need ({maxBytes}).");
        }
        var bytes = new byte[entry.Length];
        using (Stream content = entry.Open())
        {
            int read = content.ReadAtLeast(bytes, bytes.Length, throwOnEndOfStream: false);
            if (read != bytes.Length || content.ReadByte() != -1)
            {
                throw ModelFileErrors.Corrupt(path, $"its entry '{entry.FullName}' does not have the {entry.Length} bytes the zip directory lists.");
            }
        }
        if (Crc32(bytes) != entry.Crc32)
        {
            throw ModelFileErrors.Corrupt(path, $"its entry '{entry.FullName}' does not match the CRC-32 checksum the zip records for it.");
        }
        return bytes;
    }

    private static readonly uint[] CrcTable = Enumerable.Range(0, 256).Select(n =>
    {
        uint c = (uint)n;
        for (int k = 0; k < 8; k++)
        {
            c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        }
        return c;
    }).ToArray();

    /// <summary>The zip format's CRC-32 (ISO-HDLC polynomial, reflected).</summary>
    internal static uint Crc32(ReadOnlySpan<byte> bytes)
    {
        uint crc = 0xFFFFFFFFu;
        foreach (byte b in bytes)
        {
            crc = CrcTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
        }
        return ~crc;
    }
}
