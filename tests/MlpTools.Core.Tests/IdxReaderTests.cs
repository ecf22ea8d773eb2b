using MlpTools.Core.Data;
using MlpTools.Core.Platform;
using Xunit;
using static MlpTools.Core.Tests.TestData;

namespace MlpTools.Core.Tests;

public class IdxReaderTests : IDisposable
{
    // Far more than any header check needs, far less than what a lying header claims.
    private const long AllocationBudget = 16 << 20;

    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void ReadsDimensionsAndBytesOfAnImagesFile()
    {
        byte[] file = { 0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2, 10, 20, 30, 40 };
        var content = IdxReader.Read(new MemoryStream(file), file.Length, 3, "test");
        Assert.Equal(new[] { 2, 1, 2 }, content.Dimensions);
        Assert.Equal(new byte[] { 10, 20, 30, 40 }, content.Data);
    }

    [Fact]
    public void ReadsALabelsFileFromDisk()
    {
        string path = WriteIdx(_temp.File("labels"), new[] { 5 }, new byte[] { 3, 1, 4, 1, 5 });
        var content = IdxReader.Read(path, 1);
        Assert.Equal(new[] { 5 }, content.Dimensions);
        Assert.Equal(new byte[] { 3, 1, 4, 1, 5 }, content.Data);
    }

    [Fact]
    public void RawAndGzipFilesReadIdentically()
    {
        byte[] pixels = Enumerable.Range(0, 2 * 3 * 5).Select(i => (byte)(i * 7)).ToArray();
        string raw = WriteIdx(_temp.File("images"), new[] { 2, 3, 5 }, pixels);
        string gz = WriteIdx(_temp.File("images.gz"), new[] { 2, 3, 5 }, pixels, gzip: true);
        Assert.NotEqual(File.ReadAllBytes(raw), File.ReadAllBytes(gz));

        var fromRaw = IdxReader.Read(raw, 3);
        var fromGz = IdxReader.Read(gz, 3);

        Assert.Equal(new[] { 2, 3, 5 }, fromRaw.Dimensions);
        Assert.Equal(pixels, fromRaw.Data);
        Assert.Equal(fromRaw.Dimensions, fromGz.Dimensions);
        Assert.Equal(fromRaw.Data, fromGz.Data);
    }

    [Fact]
    public void AFileWithZeroItemsHasNoData()
    {
        string path = WriteIdx(_temp.File("labels"), new[] { 0 }, Array.Empty<byte>());
        var content = IdxReader.Read(path, 1);
        Assert.Equal(new[] { 0 }, content.Dimensions);
        Assert.Empty(content.Data);
    }

    [Fact]
    public void ALabelsFileReadAsImagesHasAnInvalidHeader()
    {
        string path = WriteIdx(_temp.File("labels"), new[] { 3 }, new byte[] { 0, 1, 2 });
        var error = Fails("IdxHeaderInvalid", () => IdxReader.Read(path, 3));
        Assert.Contains("0x00000801", error.Message);
        Assert.Contains("0x00000803", error.Message);
        Assert.Equal(path, error.Target);
        Assert.Equal(FailureKind.InvalidData, error.Kind);
    }

    [Fact]
    public void AnImagesFileReadAsLabelsHasAnInvalidHeader()
    {
        string path = WriteIdx(_temp.File("images"), new[] { 1, 2, 2 }, new byte[] { 1, 2, 3, 4 });
        Fails("IdxHeaderInvalid", () => IdxReader.Read(path, 1));
    }

    [Theory]
    [InlineData(0x09)] // signed byte
    [InlineData(0x0D)] // float
    [InlineData(0x00)]
    public void ATypeOtherThanUnsignedByteHasAnInvalidHeader(byte type)
    {
        byte[] file = IdxHeader(type, 2).Concat(new byte[] { 1, 2 }).ToArray();
        Fails("IdxHeaderInvalid", () => IdxReader.Read(new MemoryStream(file), file.Length, 1, "test"));
    }

    [Fact]
    public void NonZeroLeadingMagicBytesAreAnInvalidHeader()
    {
        byte[] file = { 1, 0, 8, 1, 0, 0, 0, 1, 7 };
        Fails("IdxHeaderInvalid", () => IdxReader.Read(new MemoryStream(file), file.Length, 1, "test"));
    }

    [Fact]
    public void AGzipFileCutShortInItsTrailerIsInvalidThoughItsDataInflates()
    {
        string whole = WriteIdx(_temp.File("labels.gz"), new[] { 3 }, new byte[] { 0, 1, 2 }, gzip: true);
        byte[] bytes = File.ReadAllBytes(whole);
        string cut = _temp.File("cut.gz");
        File.WriteAllBytes(cut, bytes[..^5]);
        Assert.Equal(new byte[] { 0, 1, 2 }, IdxReader.Read(whole, 1).Data);
        var error = Fails("IdxGzipInvalid", () => IdxReader.Read(cut, 1));
        Assert.Equal(FailureKind.InvalidData, error.Kind);
    }

    [Fact]
    public void AnEmptyFileIsTruncated()
    {
        string path = _temp.Write("empty", Array.Empty<byte>());
        Fails("IdxFileTruncated", () => IdxReader.Read(path, 1));
    }

    [Theory]
    [InlineData(2)]  // inside the magic number
    [InlineData(6)]  // inside the first dimension
    [InlineData(13)] // inside the third dimension of an images file
    public void ATruncatedHeaderIsTruncated(int length)
    {
        byte[] full = Idx(new[] { 1, 2, 2 }, new byte[] { 1, 2, 3, 4 });
        string path = _temp.Write("images", full[..length]);
        var error = Fails("IdxFileTruncated", () => IdxReader.Read(path, 3));
        Assert.Contains("header", error.Message);
    }

    [Fact]
    public void ATruncatedBodyIsTruncatedAndTheMessageSaysHowMuchIsThere()
    {
        byte[] file = IdxHeader(0x08, 10).Concat(new byte[] { 1, 2, 3, 4, 5 }).ToArray();
        string path = _temp.Write("labels", file);
        var error = Fails("IdxFileTruncated", () => IdxReader.Read(path, 1));
        Assert.Contains("10 bytes of data but the file holds 5", error.Message);
    }

    [Fact]
    public void ATruncatedGzipBodyIsTruncated()
    {
        // The gzip stream itself is intact; only the IDX content it holds is short.
        byte[] content = IdxHeader(0x08, 10).Concat(new byte[] { 1, 2, 3, 4, 5 }).ToArray();
        string path = _temp.Write("labels.gz", Gzip(content));
        var error = Fails("IdxFileTruncated", () => IdxReader.Read(path, 1));
        Assert.Contains("data ends after 5 of 10", error.Message);
    }

    [Fact]
    public void AStreamThatEndsInsideTheBodyIsTruncatedWhenItsLengthIsUnknown()
    {
        byte[] file = IdxHeader(0x08, 4).Concat(new byte[] { 1, 2 }).ToArray();
        Fails("IdxFileTruncated", () => IdxReader.Read(new MemoryStream(file), null, 1, "test"));
    }

    [Fact]
    public void AHeaderClaimingBillionsOfItemsInASmallRawFileIsTruncatedBeforeAllocating()
    {
        byte[] file = IdxHeader(0x08, 2_000_000_000).Concat(new byte[] { 1, 2, 3 }).ToArray();
        string path = _temp.Write("labels", file);

        long before = GC.GetAllocatedBytesForCurrentThread();
        var error = Fails("IdxFileTruncated", () => IdxReader.Read(path, 1));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Contains("2000000000 bytes of data but the file holds 3", error.Message);
        Assert.True(allocated < AllocationBudget, $"Reading the header allocated {allocated} bytes.");
    }

    [Fact]
    public void AHeaderClaimingMoreThanAnArrayCanHoldIsInvalid()
    {
        // 0x7fffffff fits an int but exceeds Array.MaxLength; the check comes before the file-length check.
        byte[] file = { 0, 0, 8, 1, 0x7f, 0xff, 0xff, 0xff, 1, 2, 3 };
        var error = Fails("IdxHeaderInvalid", () => IdxReader.Read(new MemoryStream(file), file.Length, 1, "test"));
        Assert.Contains("impossible IDX header", error.Message);
    }

    [Fact]
    public void ADimensionAboveIntMaxValueIsInvalid()
    {
        byte[] file = IdxHeader(0x08, 0xFFFF_FFFF).Concat(new byte[] { 1 }).ToArray();
        var error = Fails("IdxHeaderInvalid", () => IdxReader.Read(new MemoryStream(file), null, 1, "test"));
        Assert.Contains("dimension 0 is 4294967295", error.Message);
    }

    [Fact]
    public void ImageDimensionsWhoseProductIsTooLargeAreInvalidBeforeAllocating()
    {
        byte[] file = IdxHeader(0x08, 60000, 65536, 65536).Concat(new byte[] { 1 }).ToArray();
        string path = _temp.Write("images.gz", Gzip(file));

        long before = GC.GetAllocatedBytesForCurrentThread();
        var error = Fails("IdxHeaderInvalid", () => IdxReader.Read(path, 3));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Contains("60000x65536", error.Message);
        Assert.True(allocated < AllocationBudget, $"Reading the header allocated {allocated} bytes.");
    }

    [Fact]
    public void AGzipFileWhoseHeaderClaimsBillionsOfItemsIsRefusedBeforeAllocatingThem()
    {
        // A gzip stream's length is unknown up front, but a 40-byte file must not make the reader
        // allocate the 2 GB its header claims: it should read what is there and find it short.
        byte[] content = IdxHeader(0x08, 2_000_000_000).Concat(new byte[] { 1, 2, 3 }).ToArray();
        string path = _temp.Write("labels.gz", Gzip(content));

        long before = GC.GetAllocatedBytesForCurrentThread();
        Fails("IdxFileTruncated", () => IdxReader.Read(path, 1));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(allocated < AllocationBudget, $"Reading a {new FileInfo(path).Length}-byte gzip file allocated {allocated} bytes.");
    }

    [Fact]
    public void GzipMagicFollowedByGarbageIsInvalidGzip()
    {
        byte[] garbage = { 0x1f, 0x8b, 0xff, 0xff, 0x13, 0x37, 0x00, 0x42, 0x99, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70 };
        string path = _temp.Write("labels.gz", garbage);
        var error = Fails("IdxGzipInvalid", () => IdxReader.Read(path, 1));
        Assert.IsType<InvalidDataException>(error.InnerException);
        Assert.Equal(path, error.Target);
    }

    [Fact]
    public void ADirectoryIsRefusedAsADirectory()
    {
        var error = Fails("PathIsFolder", () => IdxReader.Read(_temp.Path, 1));
        Assert.Equal(FailureKind.InvalidArgument, error.Kind);
    }

    [Fact]
    public void AMissingFileIsNotFound()
    {
        string path = _temp.File("no-such-file");
        var error = Fails("IdxFileNotFound", () => IdxReader.Read(path, 1));
        Assert.Equal(FailureKind.ObjectNotFound, error.Kind);
        Assert.Contains(path, error.Message);
    }
}
