using MlpTools.Core;
using MlpTools.Core.Data;
using Xunit;

namespace MlpTools.Core.Tests;

public class IdxReaderTests
{
    [Fact]
    public void ReadsDimensionsAndBytesOfAnImagesFile()
    {
        byte[] file = { 0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2, 10, 20, 30, 40 };
        var content = IdxReader.Read(new MemoryStream(file), file.Length, 3, "test");
        Assert.Equal(new[] { 2, 1, 2 }, content.Dimensions);
        Assert.Equal(new byte[] { 10, 20, 30, 40 }, content.Data);
    }

    [Fact]
    public void RefusesAHeaderThatClaimsMoreThanTheFileHolds()
    {
        byte[] file = { 0, 0, 8, 1, 0x7f, 0xff, 0xff, 0xff, 1, 2, 3 };
        var error = Assert.Throws<MlpToolsException>(() => IdxReader.Read(new MemoryStream(file), file.Length, 1, "test"));
        Assert.Equal("IdxFileTruncated", error.ErrorId);
    }
}
