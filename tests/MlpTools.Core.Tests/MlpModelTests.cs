using MlpTools.Core.Modeling;
using MlpTools.Core.Platform;
using MlpTools.Core.Training;
using Xunit;
using static MlpTools.Core.Tests.TestData;

namespace MlpTools.Core.Tests;

public class MlpModelTests
{
    [Fact]
    public void TheNotebooksModelHas203530Parameters()
    {
        using var model = MlpModel.Create("mnist", new MlpArchitecture(784, new[] { 256 }, 10, ActivationSpec.ReLU), 42);

        Assert.Equal("784-256-10", model.Layers);
        Assert.Equal(784 * 256 + 256 + 256 * 10 + 10, model.ParameterCount);
        Assert.Equal(203530, model.ParameterCount);
        Assert.Equal("mnist", model.Name);
        Assert.Equal(784, model.InputSize);
        Assert.Equal(new[] { 256 }, model.HiddenSizes);
        Assert.Equal(10, model.OutputSize);
        Assert.Equal(Activation.ReLU, model.Activation);
        Assert.Equal(42, model.Seed);
        Assert.Equal(0, model.EpochsTrained);
        Assert.Equal("mnist (784-256-10, ReLU)", model.ToString());
    }

    [Fact]
    public void SeveralHiddenLayersAreChainedInOrder()
    {
        using var model = MlpModel.Create("deep", new MlpArchitecture(784, new[] { 128, 64, 32 }, 10, ActivationSpec.ReLU), 1);

        Assert.Equal("784-128-64-32-10", model.Layers);
        Assert.Equal(new[] { 128, 64, 32 }, model.HiddenSizes);
        Assert.Equal(784 * 128 + 128 + 128 * 64 + 64 + 64 * 32 + 32 + 32 * 10 + 10, model.ParameterCount);
    }

    [Fact]
    public void AModelWithoutHiddenLayersIsOneLinearLayer()
    {
        using var model = MlpModel.Create("linear", new MlpArchitecture(16, Array.Empty<int>(), 3, ActivationSpec.ReLU), 1);

        Assert.Equal("16-3", model.Layers);
        Assert.Empty(model.HiddenSizes);
        Assert.Equal(16 * 3 + 3, model.ParameterCount);
    }

    [Fact]
    public void HiddenSizesAreCopiedNotShared()
    {
        int[] hidden = { 8, 4 };
        using var model = MlpModel.Create("m", new MlpArchitecture(16, hidden, 2, ActivationSpec.ReLU), 1);
        hidden[0] = 99;
        Assert.Equal("16-8-4-2", model.Layers);
    }

    [Theory]
    [InlineData(0, 8, 2, "InputSize")]
    [InlineData(-1, 8, 2, "InputSize")]
    [InlineData(16, 0, 2, "HiddenSize")]
    [InlineData(16, -5, 2, "HiddenSize")]
    [InlineData(16, 8, 0, "OutputSize")]
    [InlineData(16, 8, -10, "OutputSize")]
    public void ZeroOrNegativeSizesAreInvalid(int input, int hidden, int output, string parameter)
    {
        var error = Fails("ModelSizeInvalid", () => MlpModel.Create("bad", new MlpArchitecture(input, new[] { 8, hidden }, output, ActivationSpec.ReLU), 1));
        Assert.Equal(FailureKind.InvalidArgument, error.Kind);
        Assert.StartsWith(parameter + " must be a positive number", error.Message);
    }

    [Fact]
    public void TheSameSeedGivesIdenticalPredictions()
    {
        var data = Separable(count: 32);
        int[] all = Enumerable.Range(0, data.Count).ToArray();
        using var first = Model(seed: 7, hidden: new[] { 8, 8 });
        using var second = Model(seed: 7, hidden: new[] { 8, 8 });

        var a = Evaluator.Predict(first, data, all).ToList();
        var b = Evaluator.Predict(second, data, all).ToList();

        Assert.Equal(a, b); // records: index, class and confidence all equal, bit for bit
        Assert.Equal(Evaluator.Accuracy(first, data).Correct, Evaluator.Accuracy(second, data).Correct);
    }

    [Fact]
    public void ADifferentSeedGivesDifferentPredictions()
    {
        var data = Separable(count: 32);
        int[] all = Enumerable.Range(0, data.Count).ToArray();
        using var first = Model(seed: 7, hidden: new[] { 8, 8 });
        using var second = Model(seed: 8, hidden: new[] { 8, 8 });

        var a = Evaluator.Predict(first, data, all).Select(p => p.Confidence);
        var b = Evaluator.Predict(second, data, all).Select(p => p.Confidence);

        Assert.NotEqual(a, b);
    }

    [Theory]
    [InlineData(4)]
    [InlineData(10)]
    public void BiasesStartAtZeroSoABlackImageGetsAUniformPrediction(int outputs)
    {
        // With zero biases every layer maps a zero input to zero, whatever the weights: softmax of zeros is 1/outputs.
        var black = InMemory(4, 4, new byte[3 * 16], new byte[3]);
        using var model = Model(seed: 123, hidden: new[] { 8, 8 }, outputs: outputs);

        foreach (var prediction in Evaluator.Predict(model, black, new[] { 0, 1, 2 }))
        {
            Assert.Equal(1.0 / outputs, prediction.Confidence, 6);
        }
    }

    [Fact]
    public void InitialWeightsHaveTheKaimingFanInStandardDeviation()
    {
        // A 64-2 model without hidden layers, shown one-hot images: image k's logits are column k of the weights,
        // so the softmax confidence c = sigmoid(|w0k - w1k|) reveals d = w0k - w1k, whose variance is 2 std².
        // Kaiming normal with fan-in 64 has std sqrt(2/64) = 0.177 (fan-out would give 1; TorchSharp's default init 0.072).
        const int inputs = 64;
        var pixels = new byte[inputs * inputs];
        for (int k = 0; k < inputs; k++)
        {
            pixels[k * inputs + k] = 255;
        }
        var oneHot = InMemory(8, 8, pixels, new byte[inputs]);
        int[] all = Enumerable.Range(0, inputs).ToArray();

        var squares = new List<double>();
        for (long seed = 1; seed <= 10; seed++)
        {
            using var model = MlpModel.Create("kaiming", new MlpArchitecture(inputs, Array.Empty<int>(), 2, ActivationSpec.ReLU), seed);
            foreach (var prediction in Evaluator.Predict(model, oneHot, all))
            {
                double c = prediction.Confidence;
                double d = Math.Log(c / (1 - c));
                squares.Add(d * d);
            }
        }
        double std = Math.Sqrt(squares.Average() / 2);

        Assert.InRange(std, Math.Sqrt(2.0 / inputs) * 0.88, Math.Sqrt(2.0 / inputs) * 1.12);
    }

    [Fact]
    public void BindAcceptsADatasetOfTheRightShape()
    {
        using var model = Model(outputs: 2);
        model.Bind(Separable(count: 4));
    }

    [Fact]
    public void BindRefusesImagesOfTheWrongSize()
    {
        using var model = Model();
        var wide = InMemory(3, 5, new byte[2 * 15], new byte[] { 0, 1 }, "wide");

        var error = Fails("ModelInputSizeMismatch", () => model.Bind(wide));
        Assert.Contains("takes 16 inputs", error.Message);
        Assert.Contains("3x5 = 15 pixels", error.Message);
        Assert.Contains("-InputSize 15", error.Message);
    }

    [Fact]
    public void BindRefusesMoreClassesThanOutputs()
    {
        using var model = Model(outputs: 2);
        var threeClasses = InMemory(4, 4, new byte[3 * 16], new byte[] { 0, 1, 2 }, "three");

        var error = Fails("ModelOutputSizeMismatch", () => model.Bind(threeClasses));
        Assert.Contains("has 2 outputs", error.Message);
        Assert.Contains("labels up to 2", error.Message);
        Assert.Contains("-OutputSize 3", error.Message);
            }

    [Fact]
    public void MoreOutputsThanClassesFit()
    {
        using var model = Model(outputs: 10);
        model.Bind(Separable(count: 4));
    }

    [Fact]
    public void ADisposedModelRefusesEveryOperation()
    {
        var data = Separable(count: 8);
        var model = Model();
        model.Dispose();

        Fails("ModelDisposed", () => Evaluator.Accuracy(model, data));
        Fails("ModelDisposed", () => Evaluator.Predict(model, data, new[] { 0 }).ToList());
        Fails("ModelDisposed", () => Trainer.Train(model, data, null, new TrainingOptions { Epochs = 1 }).ToList());
    }

    [Theory]
    [InlineData(2_000_000_000, 2_000_000_000, 10)]
    [InlineData(16, 100_000, 100_000)]
    [InlineData(16, 8, int.MaxValue)]
    public void ANetworkOverTheParameterCapIsTooLargeBeforeLibtorchSeesIt(int input, int hidden, int output)
    {
        var error = Fails("ModelTooLarge", () => MlpModel.Create("huge", new MlpArchitecture(input, new[] { hidden }, output, ActivationSpec.ReLU), 1));
        Assert.Equal(FailureKind.InvalidArgument, error.Kind);
    }

    [Fact]
    public void DisposedWhileInUseTheModelServesTheRunningCommandThenRefusesAsDisposedNotBusy()
    {
        var data = Separable(count: 4);
        var model = Model();
        var lease = model.Acquire("a test");
        model.Dispose();
        Fails("ModelDisposed", () => Evaluator.Accuracy(model, data));
        lease.Dispose();
        Fails("ModelDisposed", () => Evaluator.Accuracy(model, data));
    }

    [Fact]
    public void DisposingTwiceIsHarmless()
    {
        var model = Model();
        model.Dispose();
        model.Dispose();
        Fails("ModelDisposed", () => Evaluator.Accuracy(model, Separable(count: 4)));
    }
}
