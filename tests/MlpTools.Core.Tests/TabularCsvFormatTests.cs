using MlpTools.Core.Platform;
using System.Text;
using MlpTools.Core.Data.Tabular;
using Xunit;
using static MlpTools.Core.Tests.TestData;

namespace MlpTools.Core.Tests;

/// <summary>The CSV format itself: quoting, delimiters, line ends, numbers, ragged rows, headers, empty files and large records.</summary>
public class TabularCsvFormatTests : TabularCsvTestBase
{
    [Fact]
    public void QuotedFieldsHoldDelimitersDoubledQuotesAndLineBreaks()
    {
        string path = Csv("name,\"size, cm\",label\n\"a, b\",1,x\n\"say \"\"hi\"\"\",2,y\n\"two\nlines\",\"3\",x\n\"\",4,y\n");
        TabularData data = Read(path, new TableBuilderOptions { LabelColumn = "label", Missing = MissingValuePolicy.Fill });

        Assert.Equal(new[] { "name=a, b", "name=say \"hi\"", "name=two\nlines", "size, cm" }, data.Schema.EncodedNames);
        // The quoted empty name is a missing value, filled with the first of the equally frequent categories.
        Assert.Equal(new float[] { 1, 0, 0, 1, 0, 1, 0, 2, 0, 0, 1, 3, 1, 0, 0, 4 }, data.Features);
        Assert.Equal(new[] { 0, 1, 0, 1 }, data.LabelIndices);
    }

    [Fact]
    public void LinesAfterAQuotedLineBreakAreCountedInMessages()
    {
        string path = Csv("x,c,y\n1,\"multi\nline\",A\noops,red,B\n");
        var error = Fails("DataValueNotNumeric", () => Read(path, Label("y")));
        Assert.Contains("row 2 (line 4 of", error.Message);
    }

    [Theory]
    [InlineData(',', "\n", true, true)]
    [InlineData(';', "\r\n", true, false)]
    [InlineData('\t', "\r\n", false, true)]
    [InlineData(';', "\n", false, false)]
    public void DelimitersBomAndLineEndsReadTheSame(char delimiter, string newline, bool bom, bool trailingNewline)
    {
        string text = Flowers.Replace(',', delimiter).Replace("\n", newline);
        if (!trailingNewline)
        {
            text = text[..^newline.Length];
        }
        byte[] bytes = Encoding.UTF8.GetBytes(text);
        string path = _temp.Write("variant.csv", bom ? Encoding.UTF8.GetPreamble().Concat(bytes).ToArray() : bytes);

        TabularData data = Read(path, Label(), delimiter);

        Assert.Equal("SepalLength", data.Schema.Columns[0].Name);
        Assert.Equal(new[] { "blue", "green", "red" }, data.Schema.Columns[1].Categories);
        Assert.Equal(FlowerFeatures, data.Features);
        Assert.Equal(new[] { 0, 1, 2, 0 }, data.LabelIndices);
    }

    [Fact]
    public void BlankLinesAreSkippedButStillCounted()
    {
        string path = Csv("x,y\n1,A\n\n2,B\r\n\r\nbad,A\n\n");
        var error = Fails("DataValueNotNumeric", () => Read(path, Label("y")));
        Assert.Contains("row 3 (line 6 of", error.Message);
        Assert.Equal(new float[] { 1, 2 }, Read(Csv("x,y\n1,A\n\n2,B\n\n", "ok.csv"), Label("y")).Features);
    }

    [Fact]
    public void NumbersParseBitForBitAsDoubleParseThenFloat()
    {
        var random = new Random(3);
        var texts = new List<string> { "0", "-0", "+7", ".5", "5.", "007.250", "123456789012345", "0.000000000000000000001", "9.999999999999999", "1e3", " 4 ", "-1.5E-3" };
        for (int i = 0; i < 20_000; i++)
        {
            double value = (random.NextDouble() - 0.5) * Math.Pow(10, random.Next(-8, 12));
            texts.Add(value.ToString(random.Next(3) switch { 0 => "R", 1 => "F" + random.Next(0, 16), _ => "E" + random.Next(0, 12) }, System.Globalization.CultureInfo.InvariantCulture));
        }
        foreach (string text in texts)
        {
            float expected = (float)double.Parse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture);
            Assert.True(CellValues.TryParseNumber(text, out float fromChars), text);
            Assert.True(CellValues.TryParseNumber(Encoding.UTF8.GetBytes(text), out float fromBytes), text);
            Assert.Equal(BitConverter.SingleToInt32Bits(expected), BitConverter.SingleToInt32Bits(fromChars));
            Assert.Equal(BitConverter.SingleToInt32Bits(expected), BitConverter.SingleToInt32Bits(fromBytes));
        }
        Assert.True(CellValues.TryParsePlainDecimal("007.250".AsSpan(), out double plain) && plain == 7.25); // the fast path is taken
        Assert.False(CellValues.TryParseNumber("-", out _));
        Assert.False(CellValues.TryParseNumber(".", out _));
        Assert.False(CellValues.TryParseNumber("1.2.3", out _));
    }

    [Theory]
    [InlineData("NaN")]
    [InlineData("Infinity")]
    [InlineData("1e39")]
    [InlineData("1,5")]
    public void NonFiniteAndCultureFormattedNumbersAreNotNumbers(string value)
    {
        var error = Fails("DataValueNotNumeric", () => Read(Csv($"x;y\n1;A\n{value};B\n"), Label("y"), ';'));
        Assert.Contains($"'{value}'", error.Message);
    }

    [Theory]
    [InlineData("x,y\n1,A\n2,B,extra\n", 3, 3)]
    [InlineData("x,y\n1,A\n2\n", 3, 1)]
    [InlineData("x,y\n1,\"A\nB\"\n2,A,\n", 4, 3)]
    public void RaggedRowsAreAnErrorNamingTheLine(string text, int line, int fields)
    {
        var error = Fails("CsvRowRagged", () => Read(Csv(text), Label("y")));
        Assert.Equal(FailureKind.InvalidData, error.Kind);
        Assert.Contains($"Line {line} of", error.Message);
        Assert.Contains($"has {fields} fields but the header has 2", error.Message);
    }

    [Theory]
    [InlineData("x,y\n\"abc\"def,A\n")]
    [InlineData("x,y\n1,\"never closed\n2,B\n")]
    public void BrokenQuotingIsAnError(string text)
    {
        var error = Fails("CsvQuoteInvalid", () => Read(Csv(text), Label("y")));
        Assert.Contains("Line 2 of", error.Message);
    }

    [Theory]
    [InlineData("x,X,y\n1,2,A\n", "'X' twice")]
    [InlineData("x,,y\n1,2,A\n", "an empty column name")]
    public void DuplicateOrEmptyHeaderNamesAreAnError(string text, string problem)
    {
        var error = Fails("CsvHeaderInvalid", () => Read(Csv(text), Label("y")));
        Assert.Equal(FailureKind.InvalidData, error.Kind);
        Assert.Contains(problem, error.Message);
    }

    [Theory]
    [InlineData("", false)]
    [InlineData("", true)]
    [InlineData("\n\n", false)]
    [InlineData("x,y\n", false)]
    [InlineData("x,y", true)]
    public void AnEmptyFileOrAHeaderAloneIsDataEmpty(string text, bool bom)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(text);
        string path = _temp.Write("empty.csv", bom ? Encoding.UTF8.GetPreamble().Concat(bytes).ToArray() : bytes);
        Assert.Equal(FailureKind.InvalidData, Fails("DataEmpty", () => Read(path, Label("y"))).Kind);
    }

    [Fact]
    public void AMissingFileAndABadDelimiterAreErrors()
    {
        Assert.Equal(FailureKind.ObjectNotFound, Fails("CsvFileNotFound", () => Read(_temp.File("nope.csv"), Label())).Kind);
        Fails("PathIsFolder", () => Read(_temp.Path, Label()));
        Assert.Equal(FailureKind.InvalidArgument, Fails("CsvDelimiterInvalid", () => Read(Csv(Flowers), Label(), '"')).Kind);
    }

    [Fact]
    public void RecordsAcrossBufferRefillsAndOneLargerThanTheBufferReadExactly()
    {
        var text = new StringBuilder("id,note,label\n");
        const int rows = 60_000; // ~2 MB: records, quotes and quoted line breaks fall across the 1 MB buffer's refills
        for (int i = 0; i < rows; i++)
        {
            text.Append(i).Append(",\"say \"\"").Append(i % 7).Append("\"\"\nnow\",").Append(i % 3 == 0 ? "yes" : "no").Append("\r\n");
        }
        string huge = new('z', 1_500_000);
        text.Append(rows).Append(",\"").Append(huge).Append("\",yes");
        var progress = new SyncProgress<double>();

        TabularData data = CsvTableReader.Read(Csv(text.ToString()), ',', Label("label"), progress, CancellationToken.None);

        Assert.Equal(rows + 1, data.RowCount);
        Assert.Equal(9, data.Schema.EncodedWidth);
        Assert.Equal(Enumerable.Range(0, 7).Select(k => $"note=say \"{k}\"\nnow").Append($"note={huge}").Prepend("id"), data.Schema.EncodedNames);
        for (int i = 0; i < rows; i += 997)
        {
            Assert.Equal(i, data.Features[i * 9]);
            Assert.Equal(1, data.Features[i * 9 + 1 + i % 7]);
            Assert.Equal(i % 3 == 0 ? 1 : 0, data.LabelIndices![i]);
        }
        Assert.Equal(1, data.Features[rows * 9 + 8]);
        Assert.True(progress.Reports.Count >= 2);
        Assert.Equal(progress.Reports.OrderBy(p => p), progress.Reports);
        Assert.Equal(1.0, progress.Reports[^1]);
    }

    [Fact]
    public void CancellationStopsTheRead()
    {
        var text = new StringBuilder("x,y\n");
        for (int i = 0; i < 10_000; i++)
        {
            text.Append(i).Append(',').Append(i % 2).Append('\n');
        }
        using var cancel = new CancellationTokenSource();
        cancel.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => CsvTableReader.Read(Csv(text.ToString()), ',', Label("y"), null, cancel.Token));
    }
}
