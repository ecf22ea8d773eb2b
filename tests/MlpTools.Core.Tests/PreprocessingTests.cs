using MlpTools.Core.Data;
using MlpTools.Core.Data.Tabular;
using MlpTools.Core.Modeling;
using MlpTools.Core.Persistence;
using MlpTools.Core.Training;
using Xunit;
using static MlpTools.Core.Tests.TestData;

namespace MlpTools.Core.Tests;

/// <summary>What a model learns from its data besides weights: standardisation, categories, class and target names; and regression.</summary>
public class PreprocessingTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private static MlpDataset Table(string[] columns, object?[][] rows, string? label = null, string[]? targets = null, string split = "Train")
    {
        var builder = new TableBuilder(columns, new TableBuilderOptions { LabelColumn = label, TargetColumns = targets, RequireLabel = label is not null });
        foreach (var row in rows)
        {
            builder.AddRow(row);
        }
        return MlpDataset.FromTable("table", split, builder.Build("test rows"), "memory");
    }

    // x: 1, 2, 3, 6 (mean 3, population sd √3.5); constant: always 7; colour one-hot; class a/b.
    private static MlpDataset Small(string split = "Train") => Table(new[] { "x", "constant", "colour", "class" }, new[]
    {
        new object?[] { 1.0, 7.0, "red", "a" },
        new object?[] { 2.0, 7.0, "blue", "b" },
        new object?[] { 3.0, 7.0, "red", "a" },
        new object?[] { 6.0, 7.0, "blue", "b" },
    }, label: "class", split: split);

    private static MlpModel ModelFor(MlpDataset data, int hidden = 4) => MlpModel.Create("m",
        new MlpArchitecture(data.FeatureCount, new[] { hidden }, data.Task == MlpTask.Regression ? data.TargetNames.Count : data.ClassCount, ActivationSpec.ReLU),
        seed: 1, Preprocessing.Of(data, data.Task == MlpTask.Regression ? data.TargetNames.Count : data.ClassCount));

    private static List<EpochRecord> Train(MlpModel model, MlpDataset data, int epochs = 1, MlpDataset? validation = null, double learningRate = 1e-3, int batch = 256) =>
        Trainer.Train(model, data, validation, new TrainingOptions { Epochs = epochs, Seed = 1, LearningRate = learningRate, BatchSize = batch }).ToList();

    [Fact]
    public void StandardisationIsFittedWhenTrainingStartsOnNumericColumnsOnlyAndAConstantColumnGetsDivisorOne()
    {
        var data = Small();
        using var model = ModelFor(data);
        Assert.Null(model.Preprocessing.FeatureMean);

        Train(model, data);

        Assert.Equal(new[] { "x", "constant", "colour=blue", "colour=red" }, model.Preprocessing.Schema!.EncodedNames);
        Assert.Equal(new[] { 3f, 7f, 0f, 0f }, model.Preprocessing.FeatureMean);
        Assert.Equal(new[] { (float)Math.Sqrt(3.5), 1f, 1f, 1f }, model.Preprocessing.FeatureScale);
        Assert.All(Evaluator.PredictRows(model, new float[] { 3, 7, 1, 0 }, 1)[0].Probabilities, p => Assert.True(double.IsFinite(p)));
    }

    [Fact]
    public void AModelMadeFromSizesAloneReadsItsFirstTrainingTableAndThenOnlyTablesLikeIt()
    {
        var data = Small();
        using var model = MlpModel.Create("sizes", new MlpArchitecture(4, new[] { 4 }, 2, ActivationSpec.ReLU), seed: 1);
        Assert.True(model.Preprocessing.ReadsImages);

        Train(model, data);

        Assert.False(model.Preprocessing.ReadsImages);
        Assert.Equal(new[] { "a", "b" }, model.ClassNames);
        var other = Table(new[] { "y", "constant", "colour", "class" }, new[] { new object?[] { 1.0, 7.0, "red", "a" }, new object?[] { 2.0, 7.0, "blue", "b" } }, label: "class");
        Assert.Contains("lacks x", Fails("ModelFeatureMismatch", () => model.Bind(other)).Message);
        Fails("ModelDataKindMismatch", () => model.Bind(Separable(count: 4)));
    }

    [Fact]
    public void ATestTableWithOtherCategoriesAndFewerClassesIsMappedOntoTheModelsByName()
    {
        var train = Small();
        using var model = ModelFor(train);
        Train(model, train);
        // Only 'red': the table's own encoding has one colour column where the model has two.
        var test = Table(new[] { "x", "constant", "colour", "class" }, new[] { new object?[] { 6.0, 7.0, "red", "b" }, new object?[] { 5.0, 7.0, "red", "a" } }, label: "class", split: "Test");
        Assert.Equal(3, test.FeatureCount);

        var binding = model.Bind(test);

        Assert.Equal(new[] { 0, 1, 3 }, binding.FeatureMap);
        Assert.Equal(new[] { 0, 1 }, binding.ClassMap);
        var predictions = Evaluator.Predict(model, test, new[] { 0, 1 }).ToList();
        Assert.Equal(new[] { 1, 0 }, predictions.Select(p => p.Label));
        Assert.Equal(new[] { "b", "a" }, predictions.Select(p => p.LabelClass));
        // The same rows encoded in the model's own layout give the same answers.
        var direct = Evaluator.PredictRows(model, new float[] { 6, 7, 0, 1, 5, 7, 0, 1 }, 2);
        Assert.Equal(direct.Select(d => d.Confidence), predictions.Select(p => p.Confidence));
        Fails("ModelClassUnknown", () => model.Bind(Table(new[] { "x", "constant", "colour", "class" },
            new[] { new object?[] { 1.0, 7.0, "red", "c" }, new object?[] { 2.0, 7.0, "red", "d" } }, label: "class")));
    }

    [Fact]
    public void RegressionLearnsALinearTargetAndReportsErrorsInTheTargetsUnits()
    {
        // price = 3·x1 − 2·x2 + 500: large and offset, so without standardised targets a small network would barely move.
        var rows = Enumerable.Range(0, 200).Select(i => new object?[] { i % 10 * 1.0, i % 7 * 1.0, 3.0 * (i % 10) - 2.0 * (i % 7) + 500 }).ToArray();
        var data = Table(new[] { "x1", "x2", "price" }, rows, targets: new[] { "price" });
        using var model = ModelFor(data, hidden: 16);

        var records = Train(model, data, epochs: 60, validation: data, learningRate: 1e-2, batch: 16);

        Assert.Equal(MlpTask.Regression, model.Task);
        Assert.Null(records[^1].TrainAccuracy);
        var result = Evaluator.Regression(model, data);
        Assert.Equal("price", Assert.Single(result.PerTarget).Target);
        Assert.InRange(result.R2, 0.99, 1);
        // RMSE and MAE agree with the predictions themselves, in price units.
        var predictions = Evaluator.PredictRegression(model, data, Enumerable.Range(0, 200).ToArray()).ToList();
        double rmse = Math.Sqrt(predictions.Average(p => Math.Pow(p.Predicted[0] - p.Actual![0], 2)));
        double mae = predictions.Average(p => Math.Abs(p.Predicted[0] - p.Actual![0]));
        Assert.Equal(rmse, result.Rmse, 3);
        Assert.Equal(mae, result.Mae, 3);
        Assert.Equal(result.Rmse, records[^1].ValidationRmse!.Value, 4);
        Assert.Equal(rows.Average(r => (double)r[2]!), model.Preprocessing.TargetMean![0], 3);
    }

    [Fact]
    public void RSquaredOfAConstantTargetIsNotANumber()
    {
        var rows = Enumerable.Range(0, 8).Select(i => new object?[] { i * 1.0, 5.0 }).ToArray();
        var data = Table(new[] { "x", "y" }, rows, targets: new[] { "y" });
        using var model = ModelFor(data);
        Train(model, data);

        var result = Evaluator.Regression(model, data);

        Assert.True(double.IsNaN(result.R2));
        Assert.Equal(1f, model.Preprocessing.TargetScale![0]);
    }

    [Theory]
    [InlineData("model.mlp")]
    [InlineData("run.ckpt")]
    public void PreprocessingIsSavedWithTheModelAndGivesTheSameAnswers(string file)
    {
        var data = Small();
        using var model = ModelFor(data);
        string path = _temp.File(file);
        if (file.EndsWith(".ckpt"))
        {
            Trainer.Train(model, data, null, new TrainingOptions { Epochs = 2, Seed = 3 }, checkpoint: TrainingCheckpoint.WriteTo(path)).ToList();
        }
        else
        {
            Train(model, data, epochs: 2);
            ModelFiles.Export(model, path);
        }

        using var back = file.EndsWith(".ckpt") ? TrainingCheckpoint.Resume(path, data, null).Model : ModelFiles.Import(path);

        Assert.Equal(model.Preprocessing.FeatureMean, back.Preprocessing.FeatureMean);
        Assert.Equal(model.Preprocessing.FeatureScale, back.Preprocessing.FeatureScale);
        Assert.Equal(model.ClassNames, back.ClassNames);
        Assert.Equal(model.Preprocessing.Schema!.EncodedNames, back.Preprocessing.Schema!.EncodedNames);
        float[] row = { 2.5f, 7, 1, 0 };
        Assert.Equal(Evaluator.PredictRows(model, row, 1)[0].Probabilities, Evaluator.PredictRows(back, row, 1)[0].Probabilities);
    }

    [Fact]
    public void AnMnistModelFileIsWrittenAsBeforeWithoutAPreprocessingField()
    {
        var data = Separable(count: 8);
        using var model = Model(outputs: 2);
        Train(model, data);
        string path = _temp.File("digits.mlp");
        ModelFiles.Export(model, path);

        using var zip = System.IO.Compression.ZipFile.OpenRead(path);
        using var reader = new StreamReader(zip.GetEntry("mlptools-model.json")!.Open());
        Assert.DoesNotContain("preprocessing", reader.ReadToEnd());
    }

    [Fact]
    public void TheConfusionMatrixOfATableNamesItsClasses()
    {
        var data = Small();
        using var model = ModelFor(data);
        Train(model, data);

        var matrix = Evaluator.Accuracy(model, data).ConfusionMatrix;

        Assert.Equal(new[] { "a", "b" }, matrix.ClassNames);
        string[] lines = matrix.ToString().Split(Environment.NewLine);
        Assert.Equal("Actual \\ Predicted  a  b", lines[0]);
        Assert.StartsWith("                 a", lines[1]);
        Assert.Equal(4, matrix.Total);
    }
}
