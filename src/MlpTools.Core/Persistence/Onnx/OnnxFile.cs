using System.Text.Json;
using MlpTools.Core.Data;
using MlpTools.Core.Modeling;
using MlpTools.Core.Platform;

namespace MlpTools.Core.Persistence.Onnx;

/// <summary>What Import-Mlp learned from an ONNX file before ONNX Runtime sees it.</summary>
/// <param name="Architecture">The network, with the preprocessing MlpTools recorded (none for a file it did not write).</param>
/// <param name="OutputName">The output that holds the answers: probabilities or logits, or regression values.</param>
/// <param name="OutputIsLogits">True when the output holds class scores (logits), which the scorer turns into probabilities.</param>
/// <param name="FixedBatch">The batch size the input demands, when the file fixes one; null when it is free.</param>
internal sealed record OnnxModelInfo(ArchitectureManifest Architecture, string OutputName, bool OutputIsLogits, int? FixedBatch,
    string Producer, string ProducerVersion, long IrVersion, long Opset)
{
    /// <summary>What ONNX Runtime's scorer needs of it.</summary>
    public OnnxSignature Signature => new(Architecture.InputSize, Architecture.OutputSize, OutputName, OutputIsLogits, FixedBatch);
}

/// <summary>
/// Reads and vets an ONNX file with MlpTools' own bounded protobuf reader, before any of it reaches ONNX Runtime: only a
/// plain multilayer perceptron of standard operators (Gemm or MatMul layers, element-wise arithmetic, the activations,
/// Softmax, ArgMax) with all its weights inside the file is accepted, and every shape is checked along the graph.
/// </summary>
internal static class OnnxFile
{
    public const long MinOpset = 7;
    public const long MaxOpset = 21;
    public const long MinIrVersion = 3;
    public const long MaxIrVersion = 10;
    /// <summary>Far more than MlpTools' deepest network needs (1000 hidden layers of GELU take about 12,000 nodes).</summary>
    public const int MaxNodes = 20_000;
    private const int MaxListLength = 64;

    private static readonly HashSet<string> Operators = new(StringComparer.Ordinal)
    {
        "Gemm", "MatMul", "Add", "Sub", "Mul", "Div", "Pow", "Relu", "Sigmoid", "Tanh", "Elu", "LeakyRelu", "Softplus", "Softmax", "ArgMax", "Identity",
    };

    private static readonly Dictionary<string, Activation> SingleOperatorActivations = new(StringComparer.Ordinal)
    {
        ["Relu"] = Activation.ReLU, ["Sigmoid"] = Activation.Sigmoid, ["Tanh"] = Activation.Tanh, ["Elu"] = Activation.ELU, ["LeakyRelu"] = Activation.LeakyReLU,
    };

    /// <summary>Cheap check for detection: a protobuf whose first field is ModelProto's ir_version (every exporter writes it first).</summary>
    public static bool LooksLikeOnnx(byte[] content) => content.Length >= 2 && content[0] == 0x08 && content[1] is >= 1 and < 0x80;

    public static OnnxModelInfo Read(byte[] content, string path, string name)
    {
        try
        {
            return Vet(Parse(content, path), path, name);
        }
        catch (ProtoFormatException e)
        {
            throw ModelFileErrors.Corrupt(path, $"its ONNX protobuf cannot be read ({e.Message}). The file may have been cut short.");
        }
    }

    private sealed record Node(string Op, string Domain, List<string> Inputs, List<string> Outputs, Dictionary<string, (float F, long I, bool IsFloat)> Attributes);

    private sealed record ValueInfo(string Name, int ElementType, List<(long? Value, bool Free)> Dims);

    private sealed class Model
    {
        public long IrVersion;
        public string Producer = "";
        public string ProducerVersion = "";
        public List<(string Domain, long Version)> Opsets = new();
        public Dictionary<string, string> Metadata = new(StringComparer.Ordinal);
        public List<Node> Nodes = new();
        public Dictionary<string, long[]> Initializers = new(StringComparer.Ordinal);
        public List<ValueInfo> Inputs = new();
        public List<ValueInfo> Outputs = new();
        public bool HasGraph;
    }

    private static Model Parse(byte[] content, string path)
    {
        var model = new Model();
        var reader = new ProtoReader(content);
        while (reader.Next(out int field))
        {
            switch (field)
            {
                case 1: model.IrVersion = reader.Int64(); break;
                case 2: model.Producer = reader.String(); break;
                case 3: model.ProducerVersion = reader.String(); break;
                case 7: ParseGraph(reader.Message(), model, path); model.HasGraph = true; break;
                case 8:
                    {
                        var opset = reader.Message();
                        string domain = "";
                        long version = 0;
                        while (opset.Next(out int f))
                        {
                            if (f == 1) domain = opset.String();
                            else if (f == 2) version = opset.Int64();
                            else opset.Skip();
                        }
                        model.Opsets.Add((domain, version));
                        break;
                    }
                case 14:
                    {
                        var (key, value) = ParseEntry(reader.Message());
                        model.Metadata[key] = value;
                        break;
                    }
                case 20 or 25:
                    throw Unsupported(path, field == 20 ? "it holds training information" : "it defines functions of its own");
                default: reader.Skip(); break;
            }
        }
        return model;
    }

    private static (string Key, string Value) ParseEntry(ProtoReader entry)
    {
        string key = "", value = "";
        while (entry.Next(out int f))
        {
            if (f == 1) key = entry.String();
            else if (f == 2) value = entry.String();
            else entry.Skip();
        }
        return (key, value);
    }

    private static void ParseGraph(ProtoReader graph, Model model, string path)
    {
        while (graph.Next(out int field))
        {
            switch (field)
            {
                case 1:
                    if (model.Nodes.Count >= MaxNodes)
                    {
                        throw ModelFileErrors.Unsafe(path, $"its graph has more than {MaxNodes} nodes, far more than any multilayer perceptron MlpTools reads " +
                            $"({MlpArchitecture.MaxHiddenLayers} hidden layers at most). Import a smaller network.");
                    }
                    model.Nodes.Add(ParseNode(graph.Message(), path));
                    break;
                case 5:
                    {
                        var (name, dims) = ParseInitializer(graph.Message(), path);
                        model.Initializers[name] = dims;
                        break;
                    }
                case 11: model.Inputs.Add(ParseValueInfo(graph.Message(), path)); break;
                case 12: model.Outputs.Add(ParseValueInfo(graph.Message(), path)); break;
                case 15: throw Unsupported(path, "it has sparse weights");
                default: graph.Skip(); break;
            }
        }
    }

    private static Node ParseNode(ProtoReader node, string path)
    {
        var result = new Node("", "", new List<string>(), new List<string>(), new Dictionary<string, (float, long, bool)>(StringComparer.Ordinal));
        string op = "", domain = "";
        while (node.Next(out int field))
        {
            switch (field)
            {
                case 1: AddLimited(result.Inputs, node.String(), path); break;
                case 2: AddLimited(result.Outputs, node.String(), path); break;
                case 4: op = node.String(); break;
                case 7: domain = node.String(); break;
                case 5:
                    {
                        var attribute = node.Message();
                        string name = "";
                        float f = 0;
                        long i = 0;
                        long type = 0;
                        while (attribute.Next(out int a))
                        {
                            switch (a)
                            {
                                case 1: name = attribute.String(); break;
                                case 2: f = attribute.Float(); break;
                                case 3: i = attribute.Int64(); break;
                                case 20: type = attribute.Int64(); break;
                                case 5 or 6 or 10 or 11 or 21 or 22:
                                    throw Unsupported(path, "a node has a tensor, graph or reference attribute (control flow or constants), which a plain multilayer perceptron does not need");
                                default: attribute.Skip(); break;
                            }
                        }
                        if (result.Attributes.Count >= MaxListLength)
                        {
                            throw ModelFileErrors.Corrupt(path, $"a node has more than {MaxListLength} attributes.");
                        }
                        result.Attributes[name] = (f, i, type == 1);
                        break;
                    }
                default: node.Skip(); break;
            }
        }
        return result with { Op = op, Domain = domain };
    }

    private static void AddLimited(List<string> list, string value, string path)
    {
        if (list.Count >= MaxListLength)
        {
            throw ModelFileErrors.Corrupt(path, $"a node has more than {MaxListLength} inputs or outputs.");
        }
        list.Add(value);
    }

    private static (string Name, long[] Dims) ParseInitializer(ProtoReader tensor, string path)
    {
        var dims = new List<long>();
        string name = "";
        long dataType = 0, floatValues = 0, rawBytes = -1;
        bool otherData = false;
        while (tensor.Next(out int field))
        {
            switch (field)
            {
                case 1: tensor.Int64s(dims, MaxListLength); break;
                case 2: dataType = tensor.Int64(); break;
                case 4: floatValues += tensor.CountFloats(); break;
                case 8: name = tensor.String(); break;
                case 9: rawBytes = tensor.Span().Length; break;
                case 5 or 6 or 7 or 10 or 11: otherData = true; tensor.Skip(); break;
                case 13 or 14:
                    // external_data and data_location: the weights would be read from another file, wherever it names.
                    if (field == 14 && tensor.Int64() == 0)
                    {
                        break;
                    }
                    throw ModelFileErrors.Unsafe(path, $"its weight '{name}' refers to data in another file (ONNX external data). MlpTools reads only ONNX files that hold all their weights; " +
                        "save the model as one file (onnx.save(model, path, save_as_external_data=False)).");
                default: tensor.Skip(); break;
            }
        }
        if (dataType != 1 || otherData)
        {
            throw Unsupported(path, $"its weight '{name}' is not float32 (ONNX data type {dataType})");
        }
        double count = 1;
        foreach (long dimension in dims)
        {
            if (dimension < 0)
            {
                throw ModelFileErrors.Corrupt(path, $"its weight '{name}' has the negative dimension {dimension}.");
            }
            count *= dimension;
        }
        double held = rawBytes >= 0 ? rawBytes / 4.0 : floatValues;
        if (count != held)
        {
            throw ModelFileErrors.Corrupt(path, $"its weight '{name}' claims {string.Join('x', dims)} = {count} values but holds {held}.");
        }
        return (name, dims.ToArray());
    }

    private static ValueInfo ParseValueInfo(ProtoReader info, string path)
    {
        string name = "";
        int elementType = 0;
        var dims = new List<(long?, bool)>();
        while (info.Next(out int field))
        {
            if (field == 1)
            {
                name = info.String();
                continue;
            }
            if (field != 2)
            {
                info.Skip();
                continue;
            }
            var type = info.Message();
            while (type.Next(out int t))
            {
                if (t is 4 or 5 or 8 or 9)
                {
                    // Sequences, maps, optional and sparse values are no MLP's inputs or outputs.
                    throw Unsupported(path, $"'{name}' is not a plain tensor");
                }
                if (t != 1)
                {
                    type.Skip();
                    continue;
                }
                var tensorType = type.Message();
                while (tensorType.Next(out int tt))
                {
                    if (tt == 1) elementType = (int)tensorType.Int64();
                    else if (tt != 2) tensorType.Skip();
                    else
                    {
                        var shape = tensorType.Message();
                        while (shape.Next(out int s))
                        {
                            if (s != 1)
                            {
                                shape.Skip();
                                continue;
                            }
                            if (dims.Count >= MaxListLength)
                            {
                                throw ModelFileErrors.Corrupt(path, $"'{name}' has more than {MaxListLength} dimensions.");
                            }
                            var dimension = shape.Message();
                            long? value = null;
                            while (dimension.Next(out int d))
                            {
                                if (d == 1) value = dimension.Int64();
                                else dimension.Skip();
                            }
                            dims.Add((value, value is null));
                        }
                    }
                }
            }
        }
        return new ValueInfo(name, elementType, dims);
    }

    private static OnnxModelInfo Vet(Model model, string path, string name)
    {
        if (!model.HasGraph)
        {
            throw ModelFileErrors.Corrupt(path, "it is a protobuf without an ONNX graph.");
        }
        if (model.IrVersion < MinIrVersion || model.IrVersion > MaxIrVersion)
        {
            throw Unsupported(path, $"its ONNX IR version is {model.IrVersion}; MlpTools reads IR versions {MinIrVersion} to {MaxIrVersion}");
        }
        var defaultOpsets = model.Opsets.Where(o => o.Domain is "" or "ai.onnx").ToList();
        if (defaultOpsets.Count != 1 || defaultOpsets[0].Version < MinOpset || defaultOpsets[0].Version > MaxOpset)
        {
            throw Unsupported(path, $"it uses ONNX opset {(defaultOpsets.Count == 0 ? "(none)" : string.Join(", ", defaultOpsets.Select(o => o.Version)))}; MlpTools reads opsets {MinOpset} to {MaxOpset}");
        }
        var unsupported = model.Nodes.Where(n => n.Domain is not ("" or "ai.onnx") || !Operators.Contains(n.Op)).Select(n => n.Domain.Length > 0 ? $"{n.Domain}.{n.Op}" : n.Op).Distinct().ToList();
        if (unsupported.Count > 0)
        {
            throw Unsupported(path, $"it uses the operator(s) {string.Join(", ", unsupported.Take(10))}");
        }

        // The one input that is not a weight: [batch, features] float32.
        var inputs = model.Inputs.Where(i => !model.Initializers.ContainsKey(i.Name)).ToList();
        if (inputs.Count != 1 || inputs[0].ElementType != 1 || inputs[0].Dims.Count != 2)
        {
            throw Unsupported(path, "its graph does not take exactly one input of float32 rows ([batch, features])");
        }
        var input = inputs[0];
        foreach (var (value, _) in input.Dims)
        {
            if (value is <= 0 or > int.MaxValue)
            {
                throw ModelFileErrors.Corrupt(path, $"its input '{input.Name}' has the dimension {value}.");
            }
        }
        int? fixedBatch = input.Dims[0].Value is long batch ? (int)batch : null;

        // Follow the graph: each value's width, each layer's size, the activations between layers.
        var widths = new Dictionary<string, long>(StringComparer.Ordinal);
        long? inputWidth = input.Dims[1].Value;
        var layerSizes = new List<(long In, long Out)>();
        var between = new List<HashSet<string>> { new() };
        var producer = new Dictionary<string, Node>(StringComparer.Ordinal);
        var activationAttributes = new List<(string Op, float Alpha)>();
        widths[input.Name] = inputWidth ?? -1;
        foreach (var node in model.Nodes)
        {
            long width = NodeWidth(node, model, widths, layerSizes, path);
            if (node.Op is "Gemm" or "MatMul")
            {
                between.Add(new HashSet<string>(StringComparer.Ordinal));
            }
            else if (node.Op != "Identity" && !(node.Op == "Add" && node.Inputs.Any(model.Initializers.ContainsKey)))
            {
                between[^1].Add(node.Op);
                if (node.Op is "Elu" or "LeakyRelu")
                {
                    activationAttributes.Add((node.Op, node.Attributes.TryGetValue("alpha", out var alpha) ? alpha.F : node.Op == "Elu" ? 1f : 0.01f));
                }
            }
            foreach (string output in node.Outputs)
            {
                if (output.Length == 0 || !widths.TryAdd(output, width) || model.Initializers.ContainsKey(output))
                {
                    throw ModelFileErrors.Corrupt(path, $"its value '{output}' is defined more than once, or by no name.");
                }
                producer[output] = node;
            }
        }
        if (layerSizes.Count == 0)
        {
            throw Unsupported(path, "it has no Gemm or MatMul layer");
        }

        var hidden = layerSizes.Take(layerSizes.Count - 1).Select(l => l.Out).ToArray();
        var architecture = new ArchitectureManifest
        {
            Name = name,
            InputSize = (int)layerSizes[0].In,
            HiddenSizes = hidden.Select(h => (int)h).ToArray(),
            OutputSize = (int)layerSizes[^1].Out,
        };
        long opset = defaultOpsets[0].Version;
        if (model.Metadata.TryGetValue(StateDicts.ArchitectureMetadataKey, out string? json))
        {
            var recorded = Recorded(json, path);
            if (recorded.InputSize != architecture.InputSize || recorded.OutputSize != architecture.OutputSize || recorded.HiddenSizes is null ||
                !recorded.HiddenSizes.SequenceEqual(architecture.HiddenSizes))
            {
                throw ModelFileErrors.Corrupt(path, $"its recorded architecture does not match the shapes of its layers ({string.Join('-', architecture.ToMlpArchitecture().Widths)}).");
            }
            bool regression = recorded.Preprocessing?.Task == Data.MlpTask.Regression;
            string output = regression ? OnnxExport.ValuesName : OnnxExport.ProbabilitiesName;
            var answers = model.Outputs.FirstOrDefault(o => o.Name == output);
            if (answers is null || answers.ElementType != 1 || !widths.TryGetValue(output, out long outputWidth) || outputWidth != architecture.OutputSize)
            {
                throw ModelFileErrors.Corrupt(path, $"it says MlpTools wrote it but has no float output '{output}' of {architecture.OutputSize} values.");
            }
            architecture = recorded with { Name = name };
            architecture.Validate(path, model.ProducerVersion);
            return new OnnxModelInfo(architecture, output, false, fixedBatch, model.Producer, model.ProducerVersion, model.IrVersion, opset);
        }

        // A file from elsewhere: one float output, the last layer's logits or their Softmax, and one single-operator activation throughout.
        if (model.Outputs.Count != 1 || model.Outputs[0].ElementType != 1)
        {
            throw Unsupported(path, "a file MlpTools did not write must have exactly one float32 output (the class scores)");
        }
        string answer = model.Outputs[0].Name;
        if (!widths.TryGetValue(answer, out long answerWidth) || answerWidth != architecture.OutputSize || between[^1].Except(new[] { "Softmax" }).Any())
        {
            throw Unsupported(path, $"its output '{answer}' is not the last layer's class scores or their Softmax");
        }
        var activations = between.Skip(1).SkipLast(1).ToList();
        var kinds = activations.Select(ops => ops.Count == 1 && SingleOperatorActivations.TryGetValue(ops.First(), out var kind) ? (Activation?)kind : null).ToList();
        if (kinds.Any(k => k is null) || kinds.Distinct().Count() > 1 || activationAttributes.Select(a => a.Alpha).Distinct().Count() > 1)
        {
            throw Unsupported(path, $"its layers are not joined by one activation operator ({string.Join(", ", SingleOperatorActivations.Keys)}) used the same way throughout; " +
                "MlpTools reads the other activations only in files it wrote itself");
        }
        var activation = kinds.FirstOrDefault() ?? Activation.ReLU;
        float activationAlpha = activationAttributes.Count > 0 ? activationAttributes[0].Alpha : 0;
        architecture = architecture with
        {
            Activation = activation,
            Alpha = activation == Activation.ELU ? activationAlpha : null,
            NegativeSlope = activation == Activation.LeakyReLU ? activationAlpha : null,
        };
        architecture.Validate(path, null);
        bool logits = !(producer.TryGetValue(answer, out var last) && last.Op == "Softmax");
        return new OnnxModelInfo(architecture, answer, logits, fixedBatch, model.Producer, model.ProducerVersion, model.IrVersion, opset);
    }

    /// <summary>The width of a node's output (-1 when not known yet), checking its inputs' shapes on the way.</summary>
    private static long NodeWidth(Node node, Model model, Dictionary<string, long> widths, List<(long In, long Out)> layers, string path)
    {
        int expectedInputs = node.Op switch
        {
            "Gemm" => 3,
            "MatMul" or "Add" or "Sub" or "Mul" or "Div" or "Pow" => 2,
            _ => 1,
        };
        if (node.Inputs.Count < (node.Op == "Gemm" ? 2 : expectedInputs) || node.Inputs.Count > expectedInputs || node.Outputs.Count != 1)
        {
            throw ModelFileErrors.Corrupt(path, $"its {node.Op} node has {node.Inputs.Count} inputs and {node.Outputs.Count} outputs.");
        }
        foreach (string input in node.Inputs)
        {
            if (!widths.ContainsKey(input) && !model.Initializers.ContainsKey(input))
            {
                throw ModelFileErrors.Corrupt(path, $"its {node.Op} node reads '{input}', which no earlier node, weight or input defines.");
            }
        }
        string data = node.Inputs[0];
        if (!widths.TryGetValue(data, out long width))
        {
            // Element-wise arithmetic may have its weight first (2 * x).
            data = node.Inputs.Count > 1 && widths.ContainsKey(node.Inputs[1]) && node.Op is "Add" or "Mul" ? node.Inputs[1]
                : throw Unsupported(path, $"its {node.Op} node computes on weights alone, which no plain multilayer perceptron does");
            width = widths[data];
        }
        switch (node.Op)
        {
            case "Gemm" or "MatMul":
                {
                    if (!model.Initializers.TryGetValue(node.Inputs[1], out long[]? weight) || weight.Length != 2)
                    {
                        throw Unsupported(path, $"its {node.Op} node does not multiply by a weight matrix stored in the file");
                    }
                    bool transposed = node.Op == "Gemm" && Attribute(node, "transB") == 1;
                    if (node.Op == "Gemm" && Attribute(node, "transA") != 0)
                    {
                        throw Unsupported(path, "a Gemm node transposes its input (transA)");
                    }
                    long inSize = transposed ? weight[1] : weight[0], outSize = transposed ? weight[0] : weight[1];
                    if (inSize <= 0 || outSize <= 0 || inSize > int.MaxValue || outSize > int.MaxValue || (width >= 0 && width != inSize))
                    {
                        throw ModelFileErrors.Corrupt(path, $"its layer '{node.Inputs[1]}' of {weight[0]}x{weight[1]} weights does not fit its {width} inputs.");
                    }
                    if (node.Inputs.Count == 3 && node.Inputs[2].Length > 0)
                    {
                        RequireBroadcast(node.Inputs[2], outSize, model, widths, path);
                    }
                    layers.Add((inSize, outSize));
                    return outSize;
                }
            case "Add" or "Sub" or "Mul" or "Div" or "Pow":
                {
                    string other = node.Inputs[0] == data ? node.Inputs[1] : node.Inputs[0];
                    RequireBroadcast(other, width, model, widths, path);
                    return width;
                }
            case "Softmax" or "ArgMax":
                if (Attribute(node, "axis", node.Op == "Softmax" ? -1 : 0) is not (1 or -1))
                {
                    throw Unsupported(path, $"its {node.Op} works across rows (axis {Attribute(node, "axis")}) rather than across each row's values");
                }
                return node.Op == "ArgMax" ? 0 : width;
            default:
                return width;
        }
    }

    private static long Attribute(Node node, string name, long otherwise = 0) =>
        node.Attributes.TryGetValue(name, out var attribute) ? attribute.I : otherwise;

    /// <summary>An operand combined with a [batch, width] value must be a weight of 1 or width values (or a value of that width).</summary>
    private static void RequireBroadcast(string operand, long width, Model model, Dictionary<string, long> widths, string path)
    {
        if (widths.TryGetValue(operand, out long other))
        {
            if (other != width && other >= 0 && width >= 0)
            {
                throw ModelFileErrors.Corrupt(path, $"it combines values of {width} and {other} columns.");
            }
            return;
        }
        long[] dims = model.Initializers[operand];
        long count = dims.Aggregate(1L, (a, b) => a * b);
        bool fits = dims.Length <= 2 && (dims.Length < 2 || dims[0] == 1) && (count == 1 || (count == width && width >= 0));
        if (!fits)
        {
            throw ModelFileErrors.Corrupt(path, $"its weight '{operand}' of shape [{string.Join(", ", dims)}] does not fit values of {width} columns.");
        }
    }

    private static ArchitectureManifest Recorded(string json, string path)
    {
        try
        {
            return PersistenceJson.Deserialize<ArchitectureManifest>(System.Text.Encoding.UTF8.GetBytes(json));
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or ArgumentException or InvalidOperationException)
        {
            throw ModelFileErrors.Corrupt(path, $"its recorded architecture is not valid ({e.Message}).", e);
        }
    }

    private static MlpToolsException Unsupported(string path, string what) => new(ErrorIds.OnnxModelUnsupported,
        $"'{path}' is an ONNX file MlpTools cannot score: {what}. MlpTools reads the ONNX files Export-Mlp writes, and plain multilayer perceptrons " +
        $"from elsewhere: one float32 input [batch, features], Gemm or MatMul layers (with Add for biases) joined by Relu, Sigmoid, Tanh, Elu or LeakyRelu, " +
        $"ending in the class scores or their Softmax, opset {MinOpset} to {MaxOpset}, all weights inside the file.", path);
}
