using MlpTools.Core.Platform;
using MlpTools.Core.Data.Tabular;
using Xunit;
using static MlpTools.Core.Tests.TestData;

namespace MlpTools.Core.Tests;

/// <summary>Missing values: an error naming row, line and column, or dropped rows, or filled with the mean or the most frequent category.</summary>
public class TabularCsvMissingValueTests : TabularCsvTestBase
{
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
}
