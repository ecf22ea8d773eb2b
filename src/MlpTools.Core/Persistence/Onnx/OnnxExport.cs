using System.Runtime.InteropServices;
using System.Text.Json;
using MlpTools.Core.Data;
using MlpTools.Core.Modeling;
using MlpTools.Core.Platform;

namespace MlpTools.Core.Persistence.Onnx;

/// <summary>
/// Writes a model as an ONNX graph that needs nothing but the file: the model's preprocessing (pixels / 255, or the
/// table standardisation), a Gemm and the activation per layer (dropout is gone in inference), and the answers
/// (Softmax probabilities and the ArgMax class, or the regression values in their own units).
/// </summary>
internal static class OnnxExport
{
    /// <summary>IR version 8 with the default opset 17: what ONNX Runtime from 1.12 and ML.NET's OnnxTransformer load.</summary>
    public const int IrVersion = 8;
    public const int Opset = 17;
    public const string InputName = "input";
    public const string ProbabilitiesName = "probabilities";
    public const string PredictedName = "predicted";
    public const string ValuesName = "values";

    // Protobuf messages cannot be 2 GiB or more; ONNX puts larger weights in other files, which MlpTools does not.
    private const long MaxWeightBytes = int.MaxValue - (64 << 20);

    // ONNX's TensorProto.DataType and AttributeProto.AttributeType values used here.
    private const int FloatType = 1;
    private const int Int64Type = 7;
    private const int FloatAttribute = 1;
    private const int IntAttribute = 2;

    public static void Write(MlpModel model, Stream stream)
    {
        if (model.ParameterCount * 4L > MaxWeightBytes)
        {
            throw new MlpToolsException(ErrorIds.ModelTooLarge,
                $"Model '{model.Name}' has {model.ParameterCount} weights and biases, {model.ParameterCount * 4L} bytes: more than an ONNX file can hold " +
                "without external data files, which MlpTools does not write. Export it as an MlpTools, PyTorch or SafeTensors file instead.", model);
        }
        var preprocessing = model.Preprocessing.ForReading();
        var graph = new GraphBuilder();
        string flow = InputName;
        if (preprocessing.ReadsImages)
        {
            flow = graph.Node("Div", new[] { flow, graph.Constant("pixel_scale", new[] { 255f }) }, "scaled_input");
        }
        else
        {
            flow = graph.Node("Sub", new[] { flow, graph.Constant("feature_mean", preprocessing.FeatureMean!) }, "centred_input");
            flow = graph.Node("Div", new[] { flow, graph.Constant("feature_scale", preprocessing.FeatureScale!) }, "standardised_input");
        }
        var layers = model.LinearLayers;
        for (int i = 0; i < layers.Count; i++)
        {
            var layer = layers[i];
            string name = MlpArchitecture.LayerName(i);
            string weight = graph.Constant($"{name}.weight", layer.weight!.data<float>().ToArray(), layer.weight!.shape);
            string bias = graph.Constant($"{name}.bias", layer.bias!.data<float>().ToArray());
            flow = graph.Node("Gemm", new[] { flow, weight, bias }, i == layers.Count - 1 ? (model.Task == MlpTask.Regression ? "standardised_values" : "logits") : name,
                ("transB", 1L));
            if (i < layers.Count - 1)
            {
                flow = Activate(graph, model.Architecture.Activation, flow, $"act_{i + 1}");
            }
        }
        if (model.Task == MlpTask.Regression)
        {
            flow = graph.Node("Mul", new[] { flow, graph.Constant("target_scale", preprocessing.TargetScale!) }, "scaled_values");
            graph.Node("Add", new[] { flow, graph.Constant("target_mean", preprocessing.TargetMean!) }, ValuesName);
        }
        else
        {
            graph.Node("Softmax", new[] { flow }, ProbabilitiesName, ("axis", 1L));
            graph.Node("ArgMax", new[] { ProbabilitiesName }, PredictedName, ("axis", 1L), ("keepdims", 0L));
        }

        var body = graph.ToGraph(model.Name, model.InputSize, model.Task == MlpTask.Regression
            ? new[] { (ValuesName, FloatType, (long)model.OutputSize) }
            : new[] { (ProbabilitiesName, FloatType, (long)model.OutputSize), (PredictedName, Int64Type, 0L) });
        var file = new ProtoWriter()
            .Varint(1, IrVersion)
            .String(2, "MlpTools")
            .String(3, ProducerInfo.MlpToolsVersion)
            .Varint(5, model.EpochsTrained)
            .String(6, $"{model.Name}: a {model.Layers} multilayer perceptron ({model.Architecture.Activation}) written by MlpTools. Reads {preprocessing}.")
            .Message(7, body)
            .Message(8, new ProtoWriter().String(1, "").Varint(2, Opset));
        foreach (var (key, value) in Metadata(model, preprocessing))
        {
            file.Message(14, new ProtoWriter().String(1, key).String(2, value));
        }
        file.WriteTo(stream);
    }

    /// <summary>What a reader of the file learns without running it; Import-Mlp rebuilds the model's description from 'mlptools.architecture'.</summary>
    private static IEnumerable<(string Key, string Value)> Metadata(MlpModel model, Preprocessing preprocessing)
    {
        yield return (StateDicts.ArchitectureMetadataKey, System.Text.Encoding.UTF8.GetString(PersistenceJson.Serialize(ArchitectureManifest.Of(model))));
        yield return ("mlptools_version", ProducerInfo.MlpToolsVersion);
        yield return ("architecture", $"{model.Layers} {model.Architecture.Activation}");
        yield return ("preprocessing", preprocessing.ToString());
        yield return ("task", model.Task.ToString());
        yield return (model.Task == MlpTask.Regression ? "target_names" : "class_names",
            JsonSerializer.Serialize(model.Task == MlpTask.Regression ? model.Preprocessing.TargetNames : model.ClassNames));
    }

    /// <summary>The activation in standard operators, computing exactly what libtorch computes for it.</summary>
    private static string Activate(GraphBuilder graph, ActivationSpec activation, string x, string name)
    {
        switch (activation.Kind)
        {
            case Activation.ReLU:
                return graph.Node("Relu", new[] { x }, name);
            case Activation.Sigmoid:
                return graph.Node("Sigmoid", new[] { x }, name);
            case Activation.Tanh:
                return graph.Node("Tanh", new[] { x }, name);
            case Activation.ELU:
                return graph.Node("Elu", new[] { x }, name, ("alpha", (float)activation.Alpha));
            case Activation.LeakyReLU:
                return graph.Node("LeakyRelu", new[] { x }, name, ("alpha", (float)activation.NegativeSlope));
            case Activation.Swish:
                // SiLU: x·σ(x). Opset 17 has no single operator for it.
                return graph.Node("Mul", new[] { x, graph.Node("Sigmoid", new[] { x }, $"{name}.sigmoid") }, name);
            case Activation.Mish:
                // x·tanh(softplus(x)).
                string softplus = graph.Node("Softplus", new[] { x }, $"{name}.softplus");
                return graph.Node("Mul", new[] { x, graph.Node("Tanh", new[] { softplus }, $"{name}.tanh") }, name);
            case Activation.GELU:
                {
                    // The lecture's tanh form, as libtorch's GELU(approximate='tanh'): 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
                    // Opset 20's Gelu would do it in one node, but ONNX Runtime before 1.17 and ML.NET do not know opset 20.
                    string cube = graph.Node("Mul", new[] { graph.Node("Mul", new[] { x, x }, $"{name}.square"), x }, $"{name}.cube");
                    string inner = graph.Node("Add", new[] { x, graph.Node("Mul", new[] { cube, graph.Scalar(0.044715f) }, $"{name}.cubic") }, $"{name}.inner");
                    string tanh = graph.Node("Tanh", new[] { graph.Node("Mul", new[] { inner, graph.Scalar((float)Math.Sqrt(2 / Math.PI)) }, $"{name}.scaled") }, $"{name}.tanh");
                    string onePlus = graph.Node("Add", new[] { tanh, graph.Scalar(1f) }, $"{name}.one_plus");
                    return graph.Node("Mul", new[] { graph.Node("Mul", new[] { x, onePlus }, $"{name}.product"), graph.Scalar(0.5f) }, name);
                }
            default:
                throw new ArgumentOutOfRangeException(nameof(activation), activation.Kind, null);
        }
    }

    /// <summary>Collects a graph's nodes and weights in the order they run.</summary>
    private sealed class GraphBuilder
    {
        private readonly List<ProtoWriter> _nodes = new();
        private readonly List<ProtoWriter> _initializers = new();
        private readonly Dictionary<float, string> _scalars = new();

        public string Node(string op, string[] inputs, string output, params (string Name, object Value)[] attributes)
        {
            var node = new ProtoWriter();
            foreach (string input in inputs)
            {
                node.String(1, input);
            }
            node.String(2, output).String(3, $"{op}_{_nodes.Count}").String(4, op);
            foreach (var (name, value) in attributes)
            {
                var attribute = new ProtoWriter().String(1, name);
                _ = value is float f ? attribute.Float(2, f).Varint(20, FloatAttribute) : attribute.Varint(3, (long)value).Varint(20, IntAttribute);
                node.Message(5, attribute);
            }
            _nodes.Add(node);
            return output;
        }

        /// <summary>A weight tensor: shape <paramref name="shape"/>, or one dimension of its length when not given.</summary>
        public string Constant(string name, float[] values, long[]? shape = null)
        {
            var tensor = new ProtoWriter();
            foreach (long dimension in shape ?? new long[] { values.Length })
            {
                tensor.Varint(1, dimension);
            }
            // raw_data is little-endian; on a big-endian machine the bytes would need swapping.
            tensor.Varint(2, FloatType).String(8, name).Bytes(9, BitConverter.IsLittleEndian ? MemoryMarshal.AsBytes(values.AsSpan())
                : throw new PlatformNotSupportedException("ONNX export needs a little-endian machine."));
            _initializers.Add(tensor);
            return name;
        }

        public string Scalar(float value)
        {
            if (!_scalars.TryGetValue(value, out string? name))
            {
                name = $"const_{_scalars.Count}";
                var tensor = new ProtoWriter().Varint(2, FloatType).String(8, name);
                Span<byte> bytes = stackalloc byte[4];
                System.Buffers.Binary.BinaryPrimitives.WriteSingleLittleEndian(bytes, value);
                _initializers.Add(tensor.Bytes(9, bytes));
                _scalars[value] = name;
            }
            return name;
        }

        public ProtoWriter ToGraph(string name, int inputSize, (string Name, int Type, long Width)[] outputs)
        {
            var graph = new ProtoWriter();
            foreach (var node in _nodes)
            {
                graph.Message(1, node);
            }
            graph.String(2, name);
            foreach (var initializer in _initializers)
            {
                graph.Message(5, initializer);
            }
            graph.Message(11, ValueInfo(InputName, FloatType, inputSize));
            foreach (var (output, type, width) in outputs)
            {
                graph.Message(12, ValueInfo(output, type, width));
            }
            return graph;
        }

        /// <summary>A tensor of [batch, <paramref name="width"/>] (just [batch] for width 0), the batch dimension free.</summary>
        private static ProtoWriter ValueInfo(string name, int elementType, long width)
        {
            var shape = new ProtoWriter().Message(1, new ProtoWriter().String(2, "batch"));
            if (width > 0)
            {
                shape.Message(1, new ProtoWriter().Varint(1, width));
            }
            var tensorType = new ProtoWriter().Varint(1, elementType).Message(2, shape);
            return new ProtoWriter().String(1, name).Message(2, new ProtoWriter().Message(1, tensorType));
        }
    }
}
