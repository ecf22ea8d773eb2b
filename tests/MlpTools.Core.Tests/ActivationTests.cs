using MlpTools.Core.Modeling;
using MlpTools.Core.Platform;
using MlpTools.Core.Training;
using Xunit;
using static MlpTools.Core.Tests.TestData;

namespace MlpTools.Core.Tests;

/// <summary>
/// The lecture's eight activations against their formulas, written out here independently of the engine,
/// and the architecture options that come with them: any depth, initialisation, dropout.
/// </summary>
public class ActivationTests
{
    private static readonly double[] Points = { -20, -3, -1, -0.5, 0, 0.5, 1, 3, 20 };

    /// <summary>The lecture's formulas, as printed.</summary>
    private static double Lecture(Activation kind, double x, double alpha = 1, double slope = 0.01) => kind switch
    {
        Activation.ReLU => Math.Max(x, 0),
        Activation.Sigmoid => 1 / (1 + Math.Exp(-x)),
        Activation.Tanh => (1 - Math.Exp(-2 * x)) / (1 + Math.Exp(-2 * x)),
        Activation.ELU => x > 0 ? x : alpha * (Math.Exp(x) - 1),
        Activation.LeakyReLU => x > 0 ? x : slope * x,
        Activation.GELU => 0.5 * x * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x))),
        Activation.Swish => x / (1 + Math.Exp(-x)),
        Activation.Mish => x * Math.Tanh(Math.Log(1 + Math.Exp(x))),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    private static double CentralDifference(Activation kind, double x, double alpha, double slope, double h = 1e-5) =>
        (Lecture(kind, x + h, alpha, slope) - Lecture(kind, x - h, alpha, slope)) / (2 * h);

    public static TheoryData<Activation> Kinds => new(Enum.GetValues<Activation>());

    [Theory]
    [MemberData(nameof(ActivationSpecs), MemberType = typeof(TestData))]
    public void ValuesAreTheLecturesFormula(Activation kind, double alpha, double slope)
    {
        var (values, _) = ActivationSpec.Evaluate(new ActivationSpec(kind, alpha, slope), Points);

        Assert.Equal(Points.Length, values.Length);
        for (int i = 0; i < Points.Length; i++)
        {
            double expected = Lecture(kind, Points[i], alpha, slope);
            Assert.True(Math.Abs(values[i] - expected) < 1e-9, $"{kind}({Points[i]}) = {values[i]}, the lecture's formula gives {expected}");
        }
    }

    [Theory]
    [MemberData(nameof(ActivationSpecs), MemberType = typeof(TestData))]
    public void DerivativesAreTheFormulasSlope(Activation kind, double alpha, double slope)
    {
        var (_, derivatives) = ActivationSpec.Evaluate(new ActivationSpec(kind, alpha, slope), Points);

        for (int i = 0; i < Points.Length; i++)
        {
            double x = Points[i];
            if (x == 0 && kind is Activation.ReLU or Activation.LeakyReLU or Activation.ELU)
            {
                // A kink (or for ELU a jump in the second derivative): the derivative must lie between the one-sided slopes.
                double left = CentralDifference(kind, -1e-3, alpha, slope), right = CentralDifference(kind, 1e-3, alpha, slope);
                Assert.InRange(derivatives[i], Math.Min(left, right) - 1e-3, Math.Max(left, right) + 1e-3);
                continue;
            }
            double expected = CentralDifference(kind, x, alpha, slope);
            Assert.True(Math.Abs(derivatives[i] - expected) < 1e-7, $"{kind}'({x}) = {derivatives[i]}, the formula's slope is {expected}");
        }
    }

    [Fact]
    public void SigmoidAndTanhDerivativesFollowTheLecturesIdentities()
    {
        var (s, ds) = ActivationSpec.Evaluate(new ActivationSpec(Activation.Sigmoid), Points);
        var (t, dt) = ActivationSpec.Evaluate(new ActivationSpec(Activation.Tanh), Points);

        for (int i = 0; i < Points.Length; i++)
        {
            Assert.Equal(s[i] * (1 - s[i]), ds[i], 1e-12);
            Assert.Equal(1 - t[i] * t[i], dt[i], 1e-12);
        }
    }

    [Fact]
    public void GeluIsTheTanhApproximationNotTheErfForm()
    {
        var (values, _) = ActivationSpec.Evaluate(new ActivationSpec(Activation.GELU), new[] { 1.0 });

        // x·Φ(x) at 1 is 0.8413447460685429; the lecture's tanh form is 0.8411919906082768.
        Assert.Equal(0.8411919906082768, values[0], 1e-12);
    }

    [Fact]
    public void AlphaAndSlopeShapeOnlyTheNegativeSide()
    {
        var (elu, dElu) = ActivationSpec.Evaluate(new ActivationSpec(Activation.ELU, Alpha: 2), new[] { -50.0, 2 });
        var (leaky, dLeaky) = ActivationSpec.Evaluate(new ActivationSpec(Activation.LeakyReLU, NegativeSlope: 0.3), new[] { -2.0, 2 });

        Assert.Equal(-2, elu[0], 12);
        Assert.Equal(2, elu[1]);
        Assert.Equal(1, dElu[1]);
        Assert.Equal(-0.6, leaky[0], 12);
        Assert.Equal(0.3, dLeaky[0], 12);
        Assert.Equal(2, leaky[1]);
    }

    [Fact]
    public void SpecDefaultsAndNames()
    {
        var spec = new ActivationSpec(Activation.ELU);
        Assert.Equal(1.0, spec.Alpha);
        Assert.Equal(0.01, spec.NegativeSlope);
        Assert.Equal("ELU(α=0.5)", new ActivationSpec(Activation.ELU, Alpha: 0.5).ToString());
        Assert.Equal("LeakyReLU(0.2)", new ActivationSpec(Activation.LeakyReLU, NegativeSlope: 0.2).ToString());
        Assert.Equal("GELU", new ActivationSpec(Activation.GELU).ToString());
        Assert.Equal(8, Enum.GetValues<Activation>().Length);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void EveryActivationTrainsASeparableSet(Activation kind)
    {
        using var model = MlpModel.Create("m", new MlpArchitecture(PixelsPerImage, new[] { 8 }, 2, new ActivationSpec(kind)), 1);
        var data = Separable(32);

        var records = Trainer.Train(model, data, null, new TrainingOptions { Epochs = 8, BatchSize = 8, LearningRate = 0.03, Seed = 1 }).ToList();

        Assert.Equal(kind, model.Activation);
        Assert.Equal(1.0, records[^1].TrainAccuracy);
        Assert.True(records[^1].Loss < records[0].Loss, $"{kind}: {records[0].Loss} -> {records[^1].Loss}");
    }
}

public class ArchitectureTests
{
    private static MlpModel Create(int[] hidden, Initialization initialization = Initialization.KaimingNormal, double dropout = 0, long seed = 1, int inputs = PixelsPerImage) =>
        MlpModel.Create("m", new MlpArchitecture(inputs, hidden, 2, ActivationSpec.ReLU, initialization, dropout), seed);

    [Fact]
    public void AnyDepthAndTheLinearModel()
    {
        using var deep = MlpModel.Create("deep", new MlpArchitecture(784, new[] { 512, 256, 128 }, 10, ActivationSpec.ReLU), 1);
        using var linear = MlpModel.Create("linear", new MlpArchitecture(784, Array.Empty<int>(), 10, ActivationSpec.ReLU), 1);

        Assert.Equal("784-512-256-128-10", deep.Layers);
        Assert.Equal(784L * 512 + 512 + 512 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10, deep.ParameterCount);
        Assert.Equal("784-10", linear.Layers);
        Assert.Equal(7850, linear.ParameterCount);
        Assert.Empty(linear.HiddenSizes);
    }

    [Fact]
    public void TheLinearModelTrains()
    {
        using var model = Create(Array.Empty<int>());
        var records = Trainer.Train(model, Separable(32), null, new TrainingOptions { Epochs = 5, BatchSize = 8, LearningRate = 0.05, Seed = 1 }).ToList();

        Assert.True(records[^1].Loss < records[0].Loss / 2, string.Join(", ", records.Select(r => r.Loss)));
        Assert.Equal(1.0, records[^1].TrainAccuracy);
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(1.0)]
    [InlineData(1.5)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void DropoutOutsideZeroToOneIsRefused(double dropout)
    {
        var error = Fails("ModelDropoutInvalid", () => Create(new[] { 8 }, dropout: dropout));
        Assert.Equal(FailureKind.InvalidArgument, error.Kind);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.5)]
    [InlineData(0.999)]
    public void DropoutInZeroToOneIsRecorded(double dropout)
    {
        using var model = Create(new[] { 8 }, dropout: dropout);
        Assert.Equal(dropout, model.Dropout);
        Assert.Equal(dropout, model.Architecture.Dropout);
    }

    [Fact]
    public void AZeroWidthHiddenLayerIsRefused() => Fails("ModelSizeInvalid", () => Create(new[] { 8, 0, 4 }));

    [Fact]
    public void HiddenSizesAreCopied()
    {
        int[] widths = { 8, 4 };
        var architecture = new MlpArchitecture(PixelsPerImage, widths, 2, ActivationSpec.ReLU);
        widths[0] = 100;
        using var model = MlpModel.Create("m", architecture, 1);
        Assert.Equal("16-8-4-2", model.Layers);
    }

    [Fact]
    public void InitializationIsRecordedAndKaimingIsTheDefault()
    {
        using var kaiming = Create(new[] { 8 });
        using var xavier = Create(new[] { 8 }, Initialization.XavierNormal);
        Assert.Equal(Initialization.KaimingNormal, kaiming.Initialization);
        Assert.Equal(Initialization.XavierNormal, xavier.Initialization);
        Assert.Equal(Initialization.KaimingNormal, MlpArchitecture.Notebook.Initialization);
    }

    /// <summary>
    /// Same seed, same standard normals: Xavier's weights are Kaiming's times √(fan_in/(fan_in+fan_out)) layer by layer.
    /// With zero biases and ReLU (positively homogeneous) the 2-class logit difference scales by the product, which
    /// softmax confidences give back: d = ln(p/(1−p)).
    /// </summary>
    [Theory]
    [InlineData(new int[0])]
    [InlineData(new[] { 8 })]
    [InlineData(new[] { 8, 4 })]
    public void XavierScalesKaimingByTheFanRatio(int[] hidden)
    {
        using var kaiming = Create(hidden, seed: 5);
        using var xavier = Create(hidden, Initialization.XavierNormal, seed: 5);
        int[] widths = new[] { PixelsPerImage }.Concat(hidden).Append(2).ToArray();
        double ratio = 1;
        for (int l = 0; l + 1 < widths.Length; l++)
        {
            ratio *= Math.Sqrt((double)widths[l] / (widths[l] + widths[l + 1]));
        }
        var data = Separable(16);
        var rows = Enumerable.Range(0, 16).ToArray();

        var pk = Evaluator.Predict(kaiming, data, rows).ToList();
        var px = Evaluator.Predict(xavier, data, rows).ToList();

        int compared = 0;
        for (int i = 0; i < rows.Length; i++)
        {
            Assert.Equal(pk[i].Predicted, px[i].Predicted);
            double dk = Math.Log(pk[i].Confidence / (1 - pk[i].Confidence));
            double dx = Math.Log(px[i].Confidence / (1 - px[i].Confidence));
            if (dk < 0.05)
            {
                continue; // too near a tie for float32 confidences
            }
            compared++;
            Assert.True(Math.Abs(dx / dk - ratio) < 1e-3, $"image {i}: logit ratio {dx / dk}, expected {ratio}");
        }
        Assert.True(compared >= 8, $"only {compared} images were far enough from a tie");
    }

    [Fact]
    public void DropoutLayersDoNotChangeTheInitialWeights()
    {
        using var plain = Create(new[] { 8, 8 }, seed: 9);
        using var dropped = Create(new[] { 8, 8 }, dropout: 0.5, seed: 9);
        var data = Separable(16);
        var rows = Enumerable.Range(0, 16).ToArray();

        // Evaluation runs with dropout off, and the dropout layers draw nothing from the initialisation generator.
        Assert.Equal(Evaluator.Predict(plain, data, rows).Select(p => p.Confidence), Evaluator.Predict(dropped, data, rows).Select(p => p.Confidence));
    }
}
