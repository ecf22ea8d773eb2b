using MlpTools.Core.Data;
using MlpTools.Core.Platform;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MlpTools.Core.Modeling;

/// <summary>
/// A multilayer perceptron: Linear layers with an activation between them, as in the lecture's
/// notebook. Layers are named as in the notebook's class (<see cref="MlpArchitecture.LayerName"/>) so that weights map
/// one-to-one onto a PyTorch state_dict. Owns native memory: dispose it when done.
/// </summary>
public sealed class MlpModel : IDisposable
{
    private readonly Sequential? _network;
    private readonly OnnxScorer? _onnx;
    private torch.Device? _torchDevice;
    private int _inUse;
    // Read by Acquire on one thread while Dispose may set it on another.
    private volatile bool _disposed;

    private MlpModel(string name, MlpArchitecture architecture, long seed, Sequential network, Preprocessing preprocessing, ComputeDevice device, torch.Device torchDevice)
    {
        Name = name;
        (Device, _torchDevice) = (device, torchDevice);
        Preprocessing = preprocessing;
        Architecture = architecture;
        Seed = seed;
        _network = network;
        ParameterCount = network.parameters().Sum(p => p.numel());
    }

    /// <summary>A model imported from an ONNX file: it scores through ONNX Runtime and never touches libtorch.</summary>
    private MlpModel(string name, MlpArchitecture architecture, Preprocessing preprocessing, OnnxScorer onnx)
    {
        Name = name;
        Preprocessing = preprocessing;
        Architecture = architecture;
        _onnx = onnx;
        ParameterCount = (long)architecture.CountParameters();
    }

    internal static MlpModel FromOnnx(string name, MlpArchitecture architecture, Preprocessing preprocessing, int epochsTrained, OnnxScorer onnx) =>
        new(name, architecture, preprocessing, onnx) { EpochsTrained = epochsTrained };

    public string Name { get; }
    /// <summary>How raw features become inputs and what the outputs mean; learned from the data, saved with the model.</summary>
    public Preprocessing Preprocessing { get; internal set; }
    public MlpTask Task => Preprocessing.Task;
    /// <summary>Classification: the class each output stands for.</summary>
    public IReadOnlyList<string> ClassNames => Preprocessing.ClassNames;
    /// <summary>Everything that shapes the network: sizes, activation, initialisation, dropout.</summary>
    public MlpArchitecture Architecture { get; }
    public int InputSize => Architecture.InputSize;
    public IReadOnlyList<int> HiddenSizes => Architecture.HiddenSizes;
    public int OutputSize => Architecture.OutputSize;
    public Activation Activation => Architecture.Activation.Kind;
    public double Dropout => Architecture.Dropout;
    public Initialization Initialization => Architecture.Initialization;
    /// <summary>The seed the weights were initialised from.</summary>
    public long Seed { get; }
    public long ParameterCount { get; }
    public int EpochsTrained { get; internal set; }
    /// <summary>Its training runs (recipe, data fingerprints, epoch records) and the file it came from; model files carry it.</summary>
    public ModelHistory History { get; } = new();
    /// <summary>Layer widths from input to output, e.g. 784-256-10.</summary>
    public string Layers => Architecture.Layers;

    /// <summary>
    /// Where the weights live and the model computes: Cpu, the only device of this package (see <see cref="ComputeDevices"/>).
    /// Not stored in model files: a model is read onto Cpu or the device Import-Mlp is given. An ONNX model runs on ONNX Runtime's CPU.
    /// </summary>
    public ComputeDevice Device { get; private set; }

    /// <summary>The libtorch device every tensor for this model is made on.</summary>
    internal torch.Device TorchDevice => _torchDevice ?? throw ScoringOnlyError("this operation");

    /// <summary>What computes the model's answers: libtorch, or ONNX Runtime for a model imported from an ONNX file (which can only predict).</summary>
    public ModelRuntime Runtime => _onnx is null ? ModelRuntime.LibTorch : ModelRuntime.OnnxRuntime;

    /// <summary>The ONNX Runtime session of a model imported from an ONNX file; null for a libtorch model.</summary>
    internal OnnxScorer? Onnx => _onnx;

    internal Sequential Network => _network ?? throw ScoringOnlyError("this operation");

    /// <summary>The weight matrices W(1)..W(L), input side first (the lecture's notation).</summary>
    internal IReadOnlyList<TorchSharp.Modules.Linear> LinearLayers => Network.children().OfType<TorchSharp.Modules.Linear>().ToArray();

    /// <summary>Σ‖W‖² over the weight matrices (not the biases): the lecture's L2 term without its λ/2.</summary>
    internal Tensor SquaredWeights() => LinearLayers.Select(l => l.weight!.pow(2).sum()).Aggregate((a, b) => a + b);

    internal IEnumerable<SeededDropout> DropoutLayers => Network.children().OfType<SeededDropout>();

    /// <summary>
    /// Builds a model with zero biases and weights drawn (kaiming-normal by default, as the notebook's
    /// nn.init.kaiming_normal_) from a generator seeded with <paramref name="seed"/>.
    /// </summary>
    public static MlpModel Create(string name, MlpArchitecture architecture, long seed, Preprocessing? preprocessing = null, ComputeDevice device = ComputeDevice.Cpu)
    {
        architecture.Validate();
        TorchRuntime.EnsureAvailable();
        var torchDevice = device.ToTorch();

        var layers = new List<(string, nn.Module<Tensor, Tensor>)>();
        try
        {
            preprocessing ??= Preprocessing.ForSizes(architecture.InputSize, architecture.OutputSize);
            RequireFits(preprocessing, architecture);
            // The weights are drawn on the CPU, then moved: one seed gives the same model on every device.
            var network = nn.Sequential(BuildLayers(architecture, seed, layers)).to(torchDevice);
            return new MlpModel(name, architecture, seed, network, preprocessing, device, torchDevice);
        }
        catch (Exception e) when (e is not MlpToolsException && e.Message.Contains("allocate", StringComparison.OrdinalIgnoreCase))
        {
            // Within the parameter cap, the machine may still lack the memory: libtorch says so in an exception.
            foreach (var (_, layer) in layers)
            {
                layer.Dispose();
            }
            throw new MlpToolsException(ErrorIds.ModelAllocationFailed,
                $"There is not enough memory for the weights of a {architecture.CountParameters():0.###e+0}-parameter network. " +
                "Use smaller layers or free memory (dispose models no longer needed).", architecture, e);
        }
    }

    private static List<(string, nn.Module<Tensor, Tensor>)> BuildLayers(MlpArchitecture architecture, long seed, List<(string, nn.Module<Tensor, Tensor>)> layers)
    {
        IReadOnlyList<int> widths = architecture.Widths;
        using var generator = new Generator((ulong)seed);
        for (int i = 0; i < widths.Count - 1; i++)
        {
            var linear = nn.Linear(widths[i], widths[i + 1]);
            double std = architecture.Initialization == Initialization.XavierNormal
                ? Math.Sqrt(2.0 / (widths[i] + widths[i + 1]))
                : Math.Sqrt(2.0 / widths[i]);
            using (no_grad())
            {
                linear.weight!.normal_(0, std, generator);
                linear.bias!.zero_();
            }
            layers.Add((MlpArchitecture.LayerName(i), linear));
            if (i < widths.Count - 2)
            {
                layers.Add(($"act_{i + 1}", architecture.Activation.CreateLayer()));
                if (architecture.Dropout > 0)
                {
                    layers.Add(($"drop_{i + 1}", new SeededDropout(architecture.Dropout)));
                }
            }
        }
        return layers;
    }

    /// <summary>Moves the weights to <paramref name="device"/>, for a caller that holds the model's lease (training with -Device).</summary>
    internal void MoveTo(ComputeDevice device)
    {
        if (device != Device)
        {
            var torchDevice = device.ToTorch();
            Network.to(torchDevice);
            (Device, _torchDevice) = (device, torchDevice);
        }
    }

    /// <summary>Logits for a batch of flattened images scaled to [0,1].</summary>
    internal Tensor Forward(Tensor input) => Network.forward(input);

    /// <summary>How a dataset lines up with this model; throws, saying what to do, when it does not fit.</summary>
    public DataBinding Bind(MlpDataset dataset) => Preprocessing.Bind(dataset, Name, InputSize, OutputSize);

    /// <summary>Refuses a preprocessing whose sizes disagree with the layers (a damaged file, or a dataset for another model).</summary>
    internal static void RequireFits(Preprocessing preprocessing, MlpArchitecture architecture)
    {
        int inputs = preprocessing.Schema?.EncodedWidth ?? architecture.InputSize;
        int outputs = preprocessing.Task == MlpTask.Regression ? preprocessing.TargetNames.Count : preprocessing.ClassNames.Count;
        if (inputs != architecture.InputSize || outputs != architecture.OutputSize)
        {
            throw new MlpToolsException(ErrorIds.ModelSizeInvalid,
                $"A model with {architecture.InputSize} inputs and {architecture.OutputSize} outputs cannot read data of {inputs} features " +
                $"with {outputs} {(preprocessing.Task == MlpTask.Regression ? "targets" : "classes")}. Leave -InputSize and -OutputSize out to take them from the dataset.", architecture);
        }
    }

    /// <summary>
    /// Claims the model for one operation at a time: libtorch modules are not safe to train or
    /// evaluate from two threads at once, so a second concurrent user gets a clear error instead.
    /// </summary>
    internal IDisposable Acquire(string operation, bool scoring = false)
    {
        if (_disposed)
        {
            throw DisposedError();
        }
        if (!scoring)
        {
            RequireNetwork(operation);
        }
        if (Interlocked.CompareExchange(ref _inUse, 1, 0) != 0)
        {
            // Dispose from another runspace holds the claim for good once it has freed the weights.
            throw _disposed ? DisposedError() : new MlpToolsException(ErrorIds.ModelInUse,
                $"Model '{Name}' is busy in another thread or runspace and cannot be used for {operation} at the same time. " +
                "Wait for the other command to finish, or give each runspace its own model.", this);
        }
        var lease = new Release(this);
        if (_disposed)
        {
            // Disposed between the check and the claim: Dispose left the weights to this lease, which frees them now.
            lease.Dispose();
            throw DisposedError();
        }
        return lease;
    }

    /// <summary>Refuses <paramref name="operation"/> (training, export, ...) for a model imported from ONNX, which has no libtorch network.</summary>
    internal void RequireNetwork(string operation)
    {
        if (_network is null)
        {
            throw ScoringOnlyError(operation);
        }
    }

    private MlpToolsException ScoringOnlyError(string operation) => new(ErrorIds.ModelScoringOnly,
        $"Model '{Name}' was imported from an ONNX file, so it can only predict and be measured (Invoke-MlpPrediction, Test-MlpAccuracy) " +
        $"through ONNX Runtime; {operation} needs its network in libtorch. Import the .mlp file it was exported from instead (Import-Mlp <model>.mlp).", this);

    private MlpToolsException DisposedError() => new(ErrorIds.ModelDisposed,
        $"Model '{Name}' has been disposed and its weights are gone. Create or import the model again.", this);

    /// <summary>Frees the native weights; while a command is still using the model, that happens when it finishes.</summary>
    public void Dispose()
    {
        _disposed = true;
        if (Interlocked.CompareExchange(ref _inUse, 1, 0) == 0)
        {
            FreeNative();
        }
    }

    private void FreeNative()
    {
        _network?.Dispose();
        _onnx?.Dispose();
    }

    public override string ToString() => $"{Name} ({Layers}, {Activation}{(_onnx is null ? "" : ", ONNX")})";

    private sealed class Release(MlpModel model) : IDisposable
    {
        public void Dispose()
        {
            if (model._disposed)
            {
                model.FreeNative();
            }
            Interlocked.Exchange(ref model._inUse, 0);
        }
    }
}

/// <summary>What computes a model's answers.</summary>
public enum ModelRuntime
{
    /// <summary>libtorch through TorchSharp: training, prediction, export.</summary>
    LibTorch,
    /// <summary>ONNX Runtime, for a model imported from an ONNX file: prediction and accuracy only.</summary>
    OnnxRuntime,
}
