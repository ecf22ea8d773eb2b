using System.Text;
using MlpTools.Core.Data.Tabular;
using Xunit;
using static MlpTools.Core.Tests.TestData;

namespace MlpTools.Core.Tests;

public class TabularCsvTests : IDisposable
{
    private const string Flowers =
        "SepalLength,Color,Petal,Species\n" +
        "5.1,red,1.4,setosa\n" +
        "7.0,blue,4.7,versicolor\n" +
        "6.3,green,6.0,virginica\n" +
        "4.9,red,1.5,setosa\n";

    private static readonly float[] FlowerFeatures =
    {
        5.1f, 0, 0, 1, 1.4f,
        7.0f, 1, 0, 0, 4.7f,
        6.3f, 0, 1, 0, 6.0f,
        4.9f, 0, 0, 1, 1.5f,
    };

    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private string Csv(string text, string name = "data.csv") => _temp.Write(name, Encoding.UTF8.GetBytes(text));

    private static TabularData Read(string path, TableBuilderOptions options, char delimiter = ',') =>
        CsvTableReader.Read(path, delimiter, options, null, CancellationToken.None);

    private static TableBuilderOptions Label(string label = "Species", MissingValuePolicy missing = MissingValuePolicy.Error) =>
        new() { LabelColumn = label, Missing = missing };

    [Fact]
    public void ReadsNumbersOneHotCategoriesAndClassNames()
    {
        TabularData data = Read(Csv(Flowers), Label());

        Assert.Equal(4, data.RowCount);
        Assert.Equal(new[] { "SepalLength", "Color=blue", "Color=green", "Color=red", "Petal" }, data.Schema.EncodedNames);
        Assert.Equal(new[] { true, false, false, false, true }, data.Schema.NumericMask);
        Assert.Equal(5, data.Schema.EncodedWidth);
        Assert.Equal(new[] { ColumnKind.Numeric, ColumnKind.Categorical, ColumnKind.Numeric }, data.Schema.Columns.Select(c => c.Kind));
        Assert.Equal(FlowerFeatures, data.Features);
        Assert.Equal("Species", data.LabelName);
        Assert.Equal(new[] { "setosa", "versicolor", "virginica" }, data.ClassNames);
        Assert.Equal(new[] { 0, 1, 2, 0 }, data.LabelIndices);
        Assert.Null(data.Targets);
        Assert.Null(data.TargetNames);
        Assert.Empty(data.Warnings);
    }

    [Fact]
    public void ClassNamesAreOrdinalAndIntegerNamesSortByValue()
    {
        TabularData text = Read(Csv("x,y\n1,b\n2,a\n3,C\n4,a\n"), Label("y"));
        Assert.Equal(new[] { "C", "a", "b" }, text.ClassNames);
        Assert.Equal(new[] { 2, 1, 0, 1 }, text.LabelIndices);

        TabularData integers = Read(Csv("x,y,code\n1,10,30\n2,2,4\n3,1,-1\n", "integers.csv"),
            new TableBuilderOptions { LabelColumn = "y", CategoricalColumns = new[] { "code" } });
        Assert.Equal(new[] { "1", "2", "10" }, integers.ClassNames);
        Assert.Equal(new[] { 2, 1, 0 }, integers.LabelIndices);
        Assert.Equal(new[] { "x", "code=-1", "code=4", "code=30" }, integers.Schema.EncodedNames);
        Assert.Equal(new float[] { 1, 0, 0, 1, 2, 0, 1, 0, 3, 1, 0, 0 }, integers.Features);
    }

    [Fact]
    public void ColumnNamesMatchIgnoringCaseAndSelectFeaturesInTheirOrder()
    {
        TabularData data = Read(Csv(Flowers), new TableBuilderOptions { LabelColumn = "species", FeatureColumns = new[] { "petal", "sepallength" } });
        Assert.Equal(new[] { "Petal", "SepalLength" }, data.Schema.EncodedNames);
        Assert.Equal(new[] { 1.4f, 5.1f, 4.7f, 7.0f, 6.0f, 6.3f, 1.5f, 4.9f }, data.Features);
    }

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
    public void ACellOfUnicodeSpacesIsMissingInAFileAsInObjects()
    {
        TabularData data = Read(Csv("x,c,y\n1,red,A\n\u00A0,\u2003,B\n3,blue,A\n"), Label("y", MissingValuePolicy.Fill));
        Assert.Equal(new[] { "x", "c=blue", "c=red" }, data.Schema.EncodedNames);
        Assert.Equal(new float[] { 1, 0, 1, 2, 1, 0, 3, 1, 0 }, data.Features);
    }

    private const string WithGaps =
        "x,c,d,y\n" +
        "1,red,q,A\n" +
        ",blue,p,B\n" +
        "2,,,A\n" +
        "4,red,r,B\n";

    [Fact]
    public void AMissingValueIsAnErrorNamingRowLineAndColumn()
    {
        var error = Fails("DataValueMissing", () => Read(Csv(WithGaps), Label("y")));
        Assert.Equal(FailureKind.InvalidData, error.Kind);
        Assert.Contains("row 2 (line 3 of", error.Message);
        Assert.Contains("column 'x'", error.Message);
        Assert.Contains("-MissingValue DropRow", error.Message);
        Assert.Contains("-MissingValue Fill", error.Message);
    }

    [Fact]
    public void DropRowLeavesOutRowsWithGapsAndLearnsCategoriesFromTheRest()
    {
        TabularData data = Read(Csv(WithGaps), Label("y", MissingValuePolicy.DropRow));

        Assert.Equal(2, data.RowCount);
        Assert.Equal(new[] { "x", "c=red", "d=q", "d=r" }, data.Schema.EncodedNames);
        Assert.Equal(new float[] { 1, 1, 1, 0, 4, 1, 0, 1 }, data.Features);
        Assert.Equal(new[] { 0, 1 }, data.LabelIndices);
        string warning = Assert.Single(data.Warnings);
        Assert.Contains("Dropped 2 of 4 rows", warning);
        Assert.Contains("'x' 1, 'c' 1, 'd' 1", warning);
    }

    [Fact]
    public void FillUsesTheMeanAndTheMostFrequentCategoryFirstInOrderOnATie()
    {
        TabularData data = Read(Csv(WithGaps), Label("y", MissingValuePolicy.Fill));

        float mean = (float)(7.0 / 3);
        Assert.Equal(new[] { "x", "c=blue", "c=red", "d=p", "d=q", "d=r" }, data.Schema.EncodedNames);
        Assert.Equal(new[]
        {
            1, 0, 1, 0, 1, 0,
            mean, 1, 0, 1, 0, 0,
            2, 0, 1, 1, 0, 0,
            4, 0, 1, 0, 0, 1,
        }, data.Features);
        string warning = Assert.Single(data.Warnings);
        Assert.Contains("'x' 1x with its mean", warning);
        Assert.Contains("'c' 1x with its most frequent value 'red'", warning);
        Assert.Contains("'d' 1x with its most frequent value 'p'", warning);
    }

    [Fact]
    public void FillDoesNotInventLabels()
    {
        var error = Fails("DataValueMissing", () => Read(Csv("x,y\n1,A\n2,\n3,B\n"), Label("y", MissingValuePolicy.Fill)));
        Assert.Contains("row 2 (line 3 of", error.Message);
        Assert.Contains("column 'y'", error.Message);
        Assert.Contains("DropRow", error.Message);
        Assert.Equal(new[] { 0, 1 }, Read(Csv("x,y\n1,A\n2,\n3,B\n", "drop.csv"), Label("y", MissingValuePolicy.DropRow)).LabelIndices);
    }

    [Fact]
    public void DropRowThatLeavesNothingIsDataEmpty()
    {
        var error = Fails("DataEmpty", () => Read(Csv("x,z,y\n1,,A\n,2,B\n"), Label("y", MissingValuePolicy.DropRow)));
        Assert.Contains("'x' 1, 'z' 1", error.Message);
    }

    [Fact]
    public void AColumnWithNoValueAtAllCannotBeFilled()
    {
        var error = Fails("DataValueMissing", () => Read(Csv("x,z,y\n1,,A\n2, ,B\n"), Label("y", MissingValuePolicy.Fill)));
        Assert.Contains("'z'", error.Message);
        Assert.Contains("no value in any row", error.Message);
    }

    [Fact]
    public void RegressionReadsTwoNumericTargets()
    {
        string path = Csv("size,rooms,price,rent\n50,2,100.5,800\n80,3,180,1200\n");
        TabularData data = Read(path, new TableBuilderOptions { TargetColumns = new[] { "price", "rent" } });

        Assert.Equal(new[] { "size", "rooms" }, data.Schema.EncodedNames);
        Assert.Equal(new float[] { 50, 2, 80, 3 }, data.Features);
        Assert.Equal(new[] { "price", "rent" }, data.TargetNames);
        Assert.Equal(new[] { 100.5f, 800, 180, 1200 }, data.Targets);
        Assert.Null(data.LabelIndices);
        Assert.Null(data.ClassNames);
    }

    [Fact]
    public void ATargetThatIsNotNumericIsAnError()
    {
        string path = Csv("size,price\n50,100\n80,n/a\n");
        var error = Fails("TargetNotNumeric", () => Read(path, new TableBuilderOptions { TargetColumns = new[] { "price" } }));
        Assert.Equal(FailureKind.InvalidData, error.Kind);
        Assert.Contains("row 2 (line 3 of", error.Message);
        Assert.Contains("'price' holds 'n/a'", error.Message);
    }

    [Fact]
    public void TextInANumericColumnIsAnErrorThatSuggestsCategories()
    {
        string path = Csv("x,y\n1.5,A\nabc,B\n");
        var error = Fails("DataValueNotNumeric", () => Read(path, Label("y")));
        Assert.Equal(FailureKind.InvalidData, error.Kind);
        Assert.Contains("row 2 (line 3 of", error.Message);
        Assert.Contains("column 'x' holds 'abc'", error.Message);
        Assert.Contains("-CategoricalColumn", error.Message);
        Assert.Contains("-CategoricalProperty", error.Message);

        TabularData forced = Read(path, new TableBuilderOptions { LabelColumn = "y", CategoricalColumns = new[] { "x" } });
        Assert.Equal(new[] { "x=1.5", "x=abc" }, forced.Schema.EncodedNames);
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

    [Fact]
    public void AMissingLabelColumnIsAnErrorListingTheColumns()
    {
        var error = Fails("LabelColumnNotFound", () => Read(Csv(Flowers), Label("Kind")));
        Assert.Equal(FailureKind.InvalidArgument, error.Kind);
        Assert.Contains("'Kind'", error.Message);
        Assert.Contains("'SepalLength', 'Color', 'Petal', 'Species'", error.Message);

        Fails("LabelColumnNotFound", () => Read(Csv(Flowers), new TableBuilderOptions()));
    }

    [Fact]
    public void ALabelWithOneClassIsAnError()
    {
        var error = Fails("LabelSingleClass", () => Read(Csv("x,y\n1,A\n2,A\n"), Label("y")));
        Assert.Equal(FailureKind.InvalidData, error.Kind);
        Assert.Contains("only one class ('A')", error.Message);
    }

    [Fact]
    public void NamedColumnsMustExistAndNotOverlap()
    {
        string path = Csv(Flowers);
        Assert.Contains("'Size'", Fails("DataColumnNotFound", () => Read(path, new TableBuilderOptions { LabelColumn = "Species", FeatureColumns = new[] { "Size" } })).Message);
        Assert.Contains("'Shade'", Fails("DataColumnNotFound", () => Read(path, new TableBuilderOptions { LabelColumn = "Species", CategoricalColumns = new[] { "Shade" } })).Message);
        Assert.Contains("'Price'", Fails("DataColumnNotFound", () => Read(path, new TableBuilderOptions { TargetColumns = new[] { "Price" } })).Message);
        Assert.Equal(FailureKind.InvalidArgument, Fails("DataColumnConflict", () => Read(path, new TableBuilderOptions { LabelColumn = "Species", FeatureColumns = new[] { "Petal", "Species" } })).Kind);
        Fails("DataColumnConflict", () => Read(path, new TableBuilderOptions { LabelColumn = "Species", TargetColumns = new[] { "Petal" } }));
        Fails("DataColumnNotFound", () => Read(Csv("y\nA\nB\n", "label-only.csv"), Label("y")));
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
    public void RowsWithoutALabelColumnReadUnlabelledWhenNoLabelIsRequired()
    {
        string path = Csv("SepalLength,Color,Petal\n5.1,red,1.4\n7.0,blue,4.7\n");
        TabularData data = Read(path, new TableBuilderOptions { LabelColumn = "Species", RequireLabel = false });
        Assert.Equal(new[] { "SepalLength", "Color=blue", "Color=red", "Petal" }, data.Schema.EncodedNames);
        Assert.Equal(new float[] { 5.1f, 0, 1, 1.4f, 7.0f, 1, 0, 4.7f }, data.Features);
        Assert.Null(data.LabelIndices);
        Assert.Null(data.ClassNames);
        Assert.Null(data.LabelName);
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
