using System.Text.Json;
using MlpTools.Core.Data.Tabular;
using MlpTools.Core.Platform;
using Xunit;
using static MlpTools.Core.Tests.TestData;

namespace MlpTools.Core.Tests;

/// <summary>Encoding new rows for prediction with a trained model's schema, and keeping the schema in a file.</summary>
public class TabularSchemaTests
{
    private static readonly FeatureSchema Schema = new(new[]
    {
        new FeatureColumn("SepalLength", ColumnKind.Numeric, Array.Empty<string>()),
        new FeatureColumn("Color", ColumnKind.Categorical, new[] { "blue", "green", "red" }),
        new FeatureColumn("Petal", ColumnKind.Numeric, Array.Empty<string>()),
    });

    private static float[] Encode(Dictionary<string, object?> row, UnknownCategoryPolicy unknown = UnknownCategoryPolicy.Error, long rowNumber = 1)
    {
        var encoded = new float[Schema.EncodedWidth];
        Schema.EncodeRow(name => row.GetValueOrDefault(name), rowNumber, encoded, unknown);
        return encoded;
    }

    [Fact]
    public void EncodesTextAndNumbersExactly()
    {
        Assert.Equal(new[] { 6.5f, 0, 1, 0, 2 }, Encode(new() { ["SepalLength"] = "6.5", ["Color"] = "green", ["Petal"] = 2 }));
        Assert.Equal(new[] { 1e-3f, 0, 0, 1, -2.25f }, Encode(new() { ["SepalLength"] = 0.001m, ["Color"] = " red ", ["Petal"] = " -2.25e0 " }));
    }

    [Fact]
    public void AnUnseenCategoryFailsOrEncodesAllZerosAsAsked()
    {
        var row = new Dictionary<string, object?> { ["SepalLength"] = 6.5, ["Color"] = "purple", ["Petal"] = 2f };
        var error = Fails("CategoryUnseen", () => Encode(row, rowNumber: 7));
        Assert.Equal(FailureKind.InvalidData, error.Kind);
        Assert.Contains("row 7", error.Message);
        Assert.Contains("'Color' holds 'purple'", error.Message);
        Assert.Contains("'blue', 'green', 'red'", error.Message);
        Assert.Contains("-UnknownCategory Ignore", error.Message);

        Assert.Equal(new[] { 6.5f, 0, 0, 0, 2 }, Encode(row, UnknownCategoryPolicy.Ignore));
    }

    [Fact]
    public void AMissingFeatureIsFeatureMissingNamingTheColumn()
    {
        var error = Fails("FeatureMissing", () => Encode(new() { ["SepalLength"] = 6.5, ["Color"] = "red" }, rowNumber: 3));
        Assert.Equal(FailureKind.InvalidData, error.Kind);
        Assert.Contains("Row 3 has no 'Petal'", error.Message);
        Assert.Equal("Petal", error.Target);
    }

    [Fact]
    public void AnEmptyOrNonNumericValueIsAnError()
    {
        Assert.Contains("'SepalLength'", Fails("DataValueMissing", () => Encode(new() { ["SepalLength"] = " ", ["Color"] = "red", ["Petal"] = 1 })).Message);
        Assert.Contains("'Color'", Fails("DataValueMissing", () => Encode(new() { ["SepalLength"] = 1, ["Color"] = "", ["Petal"] = 1 })).Message);
        Assert.Contains("'abc'", Fails("DataValueNotNumeric", () => Encode(new() { ["SepalLength"] = 1, ["Color"] = "red", ["Petal"] = "abc" })).Message);
        Fails("DataValueNotNumeric", () => Encode(new() { ["SepalLength"] = double.NaN, ["Color"] = "red", ["Petal"] = 1 }));
        Fails("DataValueNotNumeric", () => Encode(new() { ["SepalLength"] = true, ["Color"] = "red", ["Petal"] = 1 }));
    }

    [Fact]
    public void RoundTripsThroughSystemTextJson()
    {
        string json = JsonSerializer.Serialize(Schema);
        Assert.Contains("\"Categorical\"", json);
        Assert.DoesNotContain("EncodedWidth", json);

        FeatureSchema back = JsonSerializer.Deserialize<FeatureSchema>(json)!;

        Assert.Equal(Schema.Columns.Select(c => (c.Name, c.Kind, string.Join("|", c.Categories))), back.Columns.Select(c => (c.Name, c.Kind, string.Join("|", c.Categories))));
        Assert.Equal(Schema.EncodedNames, back.EncodedNames);
        Assert.Equal(Schema.NumericMask, back.NumericMask);
        var encoded = new float[back.EncodedWidth];
        back.EncodeRow(name => name == "Color" ? "green" : 1, 1, encoded, UnknownCategoryPolicy.Error);
        Assert.Equal(new float[] { 1, 0, 1, 0, 1 }, encoded);
    }

    [Theory]
    [InlineData("""{"Columns":[{"Name":"a","Kind":"Numeric","Categories":[]},{"Name":"A","Kind":"Numeric","Categories":[]}]}""")]
    [InlineData("""{"Columns":[{"Name":"c","Kind":"Categorical","Categories":[]}]}""")]
    [InlineData("""{"Columns":[{"Name":"c","Kind":"Categorical","Categories":["x","x"]}]}""")]
    [InlineData("""{"Columns":[{"Name":"n","Kind":"Numeric","Categories":["x"]}]}""")]
    public void ADamagedSchemaIsRefused(string json)
    {
        Assert.Equal(FailureKind.InvalidData, Fails("FeatureSchemaInvalid", () => JsonSerializer.Deserialize<FeatureSchema>(json)).Kind);
    }
}
