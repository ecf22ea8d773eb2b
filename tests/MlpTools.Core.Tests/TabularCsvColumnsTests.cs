using MlpTools.Core.Platform;
using MlpTools.Core.Data.Tabular;
using Xunit;
using static MlpTools.Core.Tests.TestData;

namespace MlpTools.Core.Tests;

/// <summary>From columns to features, classes and targets: one-hot categories, class names, chosen, missing and conflicting columns.</summary>
public class TabularCsvColumnsTests : TabularCsvTestBase
{
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
}
