using System.Runtime.InteropServices;
using MlpTools.Core.Modeling;
using MlpTools.Core.Persistence;
using MlpTools.Core.Persistence.Onnx;
using MlpTools.Core.Platform;
using MlpTools.Core.Training;
using Xunit;
using static MlpTools.Core.Tests.TestData;

namespace MlpTools.Core.Tests;

public class OnnxTests
{
    /// <summary>Rows of raw pixels 0-255, the same for every test.</summary>
    private static float[] Pixels(int rows, int width, int seed = 7)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, rows * width).Select(_ => (float)random.Next(0, 256)).ToArray();
    }

    /// <summary>Exports <paramref name="model"/> as ONNX, imports it, and checks ONNX Runtime's answers against libtorch's.</summary>
    private static void AssertSameAnswers(MlpModel model, int rows = 200)
    {
        using var folder = new TempFolder();
        string path = folder.File("model.onnx");
        ModelFiles.Export(model, path);
        using var imported = ModelFiles.Import(path);
        Assert.Equal(ModelRuntime.OnnxRuntime, imported.Runtime);
        Assert.Equal(model.Layers, imported.Layers);
        Assert.Equal(model.Architecture.Activation, imported.Architecture.Activation);
        float[] features = Pixels(rows, model.InputSize);
        var expected = Evaluator.PredictRows(model, features, rows);
        var actual = Evaluator.PredictRows(imported, features, rows);
        for (int r = 0; r < rows; r++)
        {
            Assert.Equal(expected[r].ClassIndex, actual[r].ClassIndex);
            for (int c = 0; c < model.OutputSize; c++)
            {
                Assert.InRange(actual[r].Probabilities[c] - expected[r].Probabilities[c], -1e-5, 1e-5);
            }
        }
    }

    [Theory]
    [MemberData(nameof(ActivationSpecs), MemberType = typeof(TestData))]
    public void EveryActivationScoresInOnnxRuntimeAsInLibTorch(Activation activation, double alpha, double slope)
    {
        using var model = MlpModel.Create("act", new MlpArchitecture(16, new[] { 9, 7 }, 4, new ActivationSpec(activation, alpha, slope)), seed: 11);
        AssertSameAnswers(model);
    }

    [Theory]
    [InlineData(Activation.GELU)]
    [InlineData(Activation.Mish)]
    [InlineData(Activation.LeakyReLU)]
    public void ADeeperTrainedNetworkWithDropoutScoresAsInLibTorch(Activation activation)
    {
        var data = Separable(count: 64, noiseSeed: 4);
        using var model = MlpModel.Create("deep", new MlpArchitecture(16, new[] { 12, 10, 8, 6, 5, 4 }, 2, new ActivationSpec(activation, 1, 0.1), Dropout: 0.2), seed: 3);
        Trainer.Train(model, data, null, new TrainingOptions { Epochs = 5, BatchSize = 8, LearningRate = 0.01, Seed = 3 }).ToList();
        AssertSameAnswers(model);
        using var folder = new TempFolder();
        ModelFiles.Export(model, folder.File("deep.onnx"));
        using var imported = ModelFiles.Import(folder.File("deep.onnx"));
        Assert.Equal(Evaluator.Accuracy(model, data).Correct, Evaluator.Accuracy(imported, data).Correct);
    }

    [Fact]
    public void AnImportedOnnxModelRefusesTrainingAndExport()
    {
        using var folder = new TempFolder();
        using var model = Model();
        ModelFiles.Export(model, folder.File("m.onnx"));
        using var imported = ModelFiles.Import(folder.File("m.onnx"));
        var error = Fails("ModelScoringOnly", () => Trainer.Train(imported, Separable(), null, new TrainingOptions { Epochs = 1 }).ToList());
        Assert.Contains(".mlp", error.Message);
        Fails("ModelScoringOnly", () => ModelFiles.Export(imported, folder.File("again.mlp")));
        Assert.False(File.Exists(folder.File("again.mlp")));
    }

    // A plain MLP as another tool writes it: input [batch, 3] -> MatMul W1 [3x4] -> Add b1 -> activation -> Gemm W2 [2x4]ᵀ + b2 -> Softmax.
    private static readonly float[] W1 = { 0.5f, -1f, 0.25f, 2f, 1.5f, 0.5f, -0.75f, -1f, -0.5f, 1f, 1f, 0.1f };
    private static readonly float[] B1 = { 0.1f, -0.2f, 0.3f, 0f };
    private static readonly float[] W2 = { 1f, -1f, 0.5f, 2f, -0.5f, 1f, 1.5f, -2f };
    private static readonly float[] B2 = { 0.05f, -0.05f };

    private sealed record Foreign
    {
        public long Opset { get; init; } = 13;
        public long IrVersion { get; init; } = 7;
        public string Activation { get; init; } = "Relu";
        public string SecondActivation { get; init; } = "";
        public long[] W1Dims { get; init; } = { 3, 4 };
        public long? Batch { get; init; }
        public bool Softmax { get; init; } = true;
        public bool ExternalData { get; init; }
        public int ExtraIdentityNodes { get; init; }
    }

    private static ProtoWriter Tensor(string name, float[] values, params long[] dims)
    {
        var tensor = new ProtoWriter();
        foreach (long d in dims)
        {
            tensor.Varint(1, d);
        }
        tensor.Varint(2, 1).String(8, name).Bytes(9, MemoryMarshal.AsBytes(values.AsSpan()));
        return tensor;
    }

    private static ProtoWriter Node(string op, string output, params string[] inputs)
    {
        var node = new ProtoWriter();
        foreach (string input in inputs)
        {
            node.String(1, input);
        }
        return node.String(2, output).String(4, op);
    }

    private static ProtoWriter ValueInfo(string name, long? batch, long width)
    {
        var shape = new ProtoWriter()
            .Message(1, batch is long b ? new ProtoWriter().Varint(1, b) : new ProtoWriter().String(2, "N"))
            .Message(1, new ProtoWriter().Varint(1, width));
        return new ProtoWriter().String(1, name).Message(2, new ProtoWriter().Message(1, new ProtoWriter().Varint(1, 1).Message(2, shape)));
    }

    private static byte[] Build(Foreign f)
    {
        var graph = new ProtoWriter();
        string flow = "x";
        for (int i = 0; i < f.ExtraIdentityNodes; i++)
        {
            graph.Message(1, Node("Identity", $"id{i}", flow));
            flow = $"id{i}";
        }
        graph.Message(1, Node("MatMul", "mm", flow, "W1"))
            .Message(1, Node("Add", "h", "mm", "b1"))
            .Message(1, Node(f.Activation, "a", "h"));
        var gemm = Node("Gemm", f.Softmax ? "logits" : "y", "a", "W2", "b2").Message(5, new ProtoWriter().String(1, "transB").Varint(3, 1).Varint(20, 2));
        graph.Message(1, gemm);
        if (f.Softmax)
        {
            graph.Message(1, Node("Softmax", "y", "logits").Message(5, new ProtoWriter().String(1, "axis").Varint(3, 1).Varint(20, 2)));
        }
        var w1 = Tensor("W1", W1, f.W1Dims);
        if (f.ExternalData)
        {
            w1 = new ProtoWriter().Varint(1, 3).Varint(1, 4).Varint(2, 1).String(8, "W1")
                .Message(13, new ProtoWriter().String(1, "location").String(2, "../../../etc/passwd")).Varint(14, 1);
        }
        graph.String(2, "foreign").Message(5, w1).Message(5, Tensor("b1", B1, 4)).Message(5, Tensor("W2", W2, 2, 4)).Message(5, Tensor("b2", B2, 2))
            .Message(11, ValueInfo("x", f.Batch, 3)).Message(12, ValueInfo("y", f.Batch, 2));
        var model = new ProtoWriter().Varint(1, f.IrVersion).String(2, "elsewhere").Message(7, graph)
            .Message(8, new ProtoWriter().String(1, "").Varint(2, f.Opset));
        using var stream = new MemoryStream();
        model.WriteTo(stream);
        return stream.ToArray();
    }

    /// <summary>The foreign network's probabilities, computed here in double precision.</summary>
    private static double[] Expected(float[] x, Func<double, double> activation)
    {
        var h = new double[4];
        for (int j = 0; j < 4; j++)
        {
            double sum = B1[j];
            for (int i = 0; i < 3; i++)
            {
                sum += x[i] * W1[i * 4 + j];
            }
            h[j] = activation(sum);
        }
        var logits = new double[2];
        for (int k = 0; k < 2; k++)
        {
            logits[k] = B2[k] + Enumerable.Range(0, 4).Sum(j => h[j] * W2[k * 4 + j]);
        }
        double max = logits.Max();
        double total = logits.Sum(l => Math.Exp(l - max));
        return logits.Select(l => Math.Exp(l - max) / total).ToArray();
    }

    [Theory]
    [InlineData("Relu", null, true)]
    [InlineData("Tanh", null, false)]
    [InlineData("Sigmoid", 1L, true)]
    [InlineData("Relu", 4L, false)]
    public void APlainMlpFromAnotherToolIsScoredExactly(string activation, long? batch, bool softmax)
    {
        using var folder = new TempFolder();
        string path = folder.Write("foreign.onnx", Build(new Foreign { Activation = activation, Batch = batch, Softmax = softmax }));
        using var model = ModelFiles.Import(path);
        Assert.Equal("3-4-2", model.Layers);
        Assert.Equal(Enum.Parse<Activation>(activation == "Relu" ? "ReLU" : activation), model.Activation);
        Assert.Equal(new[] { "0", "1" }, model.ClassNames);
        Func<double, double> f = activation switch { "Relu" => v => Math.Max(0, v), "Tanh" => Math.Tanh, _ => v => 1 / (1 + Math.Exp(-v)) };
        // Five rows: with a fixed batch of 1 or 4 the scorer runs full batches, the last one padded.
        float[] rows = { 1, 2, 3, -1, 0.5f, 2, 0, 0, 0, 3, -2, 1, 0.25f, 0.75f, -0.5f };
        var answers = Evaluator.PredictRows(model, rows, 5);
        for (int r = 0; r < 5; r++)
        {
            double[] expected = Expected(rows[(r * 3)..(r * 3 + 3)], f);
            Assert.Equal(expected[1] > expected[0] ? 1 : 0, answers[r].ClassIndex);
            Assert.InRange(answers[r].Probabilities[0] - expected[0], -1e-6, 1e-6);
            Assert.InRange(answers[r].Probabilities[1] - expected[1], -1e-6, 1e-6);
        }
    }

    public static TheoryData<string, string> HostileFiles => new()
    {
        { "opset", "OnnxModelUnsupported" },
        { "ir", "OnnxModelUnsupported" },
        { "operator", "OnnxModelUnsupported" },
        { "huge", "ModelFileCorrupt" },
        { "negative", "ModelFileCorrupt" },
        { "external", "ModelFileUnsafe" },
        { "truncated", "ModelFileCorrupt" },
        { "million", "ModelFileUnsafe" },
    };

    [Theory]
    [MemberData(nameof(HostileFiles))]
    public void DamagedHostileOrForeignFilesEndInClearErrors(string kind, string errorId)
    {
        byte[] content = kind switch
        {
            "opset" => Build(new Foreign { Opset = 99 }),
            "ir" => Build(new Foreign { IrVersion = 99 }),
            "operator" => Build(new Foreign { Activation = "Conv" }),
            "huge" => Build(new Foreign { W1Dims = new[] { 3L, 4_000_000_000L } }),
            "negative" => Build(new Foreign { W1Dims = new[] { -3L, -4L } }),
            "external" => Build(new Foreign { ExternalData = true }),
            "truncated" => Build(new Foreign())[..150],
            _ => Build(new Foreign { ExtraIdentityNodes = 1_000_000 }),
        };
        using var folder = new TempFolder();
        var error = Fails(errorId, () => ModelFiles.Import(folder.Write("hostile.onnx", content)));
        Assert.Contains("hostile.onnx", error.Message);
    }

    [Fact]
    public void EveryCutOfAFileEndsInAClearErrorNeverACrash()
    {
        byte[] content = Build(new Foreign());
        using var folder = new TempFolder();
        for (int length = 1; length < content.Length; length += 3)
        {
            var error = Assert.Throws<MlpToolsException>(() => ModelFiles.Import(folder.Write("cut.onnx", content[..length])));
            Assert.Contains(error.ErrorId, new[] { "ModelFileCorrupt", "OnnxModelUnsupported" });
        }
    }

    [Fact]
    public void AForeignFileWithActivationsMlpToolsCannotNameIsRefused()
    {
        using var folder = new TempFolder();
        // Softplus alone is not one of MlpTools' activations.
        Fails("OnnxModelUnsupported", () => ModelFiles.Import(folder.Write("softplus.onnx", Build(new Foreign { Activation = "Softplus" }))));
    }

    [Fact]
    public void OnnxRuntimeLoadsAndSaysItsVersion()
    {
        Assert.Null(OnnxRuntimeInfo.LoadError);
        Assert.Equal("1.31.1", OnnxRuntimeInfo.Version);
    }
}
