using System.Text;
using MlpTools.Core.Data.Tabular;
using static MlpTools.Core.Tests.TestData;

namespace MlpTools.Core.Tests;

/// <summary>What the CSV reading tests share: a small flowers table, a temporary folder for their files, and the reader's call.</summary>
public abstract class TabularCsvTestBase : IDisposable
{
    protected const string Flowers =
        "SepalLength,Color,Petal,Species\n" +
        "5.1,red,1.4,setosa\n" +
        "7.0,blue,4.7,versicolor\n" +
        "6.3,green,6.0,virginica\n" +
        "4.9,red,1.5,setosa\n";

    protected static readonly float[] FlowerFeatures =
    {
        5.1f, 0, 0, 1, 1.4f,
        7.0f, 1, 0, 0, 4.7f,
        6.3f, 0, 1, 0, 6.0f,
        4.9f, 0, 0, 1, 1.5f,
    };

    private protected readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    protected string Csv(string text, string name = "data.csv") => _temp.Write(name, Encoding.UTF8.GetBytes(text));

    protected static TabularData Read(string path, TableBuilderOptions options, char delimiter = ',') =>
        CsvTableReader.Read(path, delimiter, options, null, CancellationToken.None);

    protected static TableBuilderOptions Label(string label = "Species", MissingValuePolicy missing = MissingValuePolicy.Error) =>
        new() { LabelColumn = label, Missing = missing };
}
