using MlpTools.Core.Data;
using MlpTools.Core.Native;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MlpTools.Core.Modeling;

/// <summary>
/// A multilayer perceptron: Linear layers with an activation between them, as in the lecture's
/// notebook. Layers are named lin_1, lin_2, ... like the notebook's class so that weights map
/// one-to-one onto a PyTorch state_dict. Owns native memory: dispose it when done.
/// </summary>
public sealed class MlpModel : IDisposable
{
    private readonly Sequential _network;
    private int _inUse;
    // Read by Acquire on one thread while Dispose may set it on another.
    private volatile bool _disposed;

    private MlpModel(string name, MlpArchitecture architecture, long seed, Sequential network)
    {
        Name = name;
        Architecture = architecture;
        Seed = seed;
        _network = network;
        ParameterCount = network.parameters().Sum(p => p.numel());
    }

    public string Name { get; }
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
    public string Layers => string.Join('-', new[] { InputSize }.Concat(HiddenSizes).Append(OutputSize));

    internal Sequential Network => _network;

    /// <summary>The weight matrices W(1)..W(L), input side first (the lecture's notation).</summary>
    internal IReadOnlyList<TorchSharp.Modules.Linear> LinearLayers => _network.children().OfType<TorchSharp.Modules.Linear>().ToArray();

    internal IEnumerable<SeededDropout> DropoutLayers => _network.children().OfType<SeededDropout>();

    /// <summary>
    /// Builds a model with zero biases and weights drawn (kaiming-normal by default, as the notebook's
    /// nn.init.kaiming_normal_) from a generator seeded with <paramref name="seed"/>.
    /// </summary>
    public static MlpModel Create(string name, MlpArchitecture architecture, long seed)
    {
        architecture.Validate();
        TorchRuntime.EnsureAvailable();

        var layers = new List<(string, nn.Module<Tensor, Tensor>)>();
        try
        {
            return new MlpModel(name, architecture, seed, nn.Sequential(BuildLayers(architecture, seed, layers)));
        }
        catch (Exception e) when (e is not MlpToolsException && e.Message.Contains("allocate", StringComparison.OrdinalIgnoreCase))
        {
            // Within the parameter cap, the machine may still lack the memory: libtorch says so in an exception.
            foreach (var (_, layer) in layers)
            {
                layer.Dispose();
            }
            throw new MlpToolsException("ModelAllocationFailed", FailureKind.ResourceUnavailable,
                $"There is not enough memory for the weights of a {architecture.CountParameters():0.###e+0}-parameter network. " +
                "Use smaller layers or free memory (dispose models no longer needed).", architecture, e);
        }
    }

    private static List<(string, nn.Module<Tensor, Tensor>)> BuildLayers(MlpArchitecture architecture, long seed, List<(string, nn.Module<Tensor, Tensor>)> layers)
    {
        int[] widths = new[] { architecture.InputSize }.Concat(architecture.HiddenSizes).Append(architecture.OutputSize).ToArray();
        using var generator = new Generator((ulong)seed);
        for (int i = 0; i < widths.Length - 1; i++)
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
            layers.Add(($"lin_{i + 1}", linear));
            if (i < widths.Length - 2)
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

    /// <summary>Logits for a batch of flattened images scaled to [0,1].</summary>
    internal Tensor Forward(Tensor input) => _network.forward(input);

    /// <summary>Checks that a dataset's images and labels fit this model; the error says how to fix a mismatch.</summary>
    public void EnsureFits(MlpDataset dataset)
    {
        EnsureInputFits(dataset);
        if (dataset.ClassCount > OutputSize)
        {
            throw new MlpToolsException("ModelOutputSizeMismatch", FailureKind.InvalidArgument,
                $"Model '{Name}' has {OutputSize} outputs but dataset '{dataset.Name}' ({dataset.Split}) has labels up to {dataset.ClassCount - 1}. " +
                $"Create a model with 'New-Mlp -OutputSize {dataset.ClassCount}'.", dataset);
        }
    }

    /// <summary>Checks that a dataset's images have as many pixels as the model has inputs.</summary>
    public void EnsureInputFits(MlpDataset dataset)
    {
        if (dataset.ImageSize != InputSize)
        {
            throw new MlpToolsException("ModelInputSizeMismatch", FailureKind.InvalidArgument,
                $"Model '{Name}' takes {InputSize} inputs but dataset '{dataset.Name}' ({dataset.Split}) has images of {dataset.ImageHeight}x{dataset.ImageWidth} = {dataset.ImageSize} pixels. " +
                $"Create a model with 'New-Mlp -InputSize {dataset.ImageSize}'.", dataset);
        }
    }

    /// <summary>
    /// Claims the model for one operation at a time: libtorch modules are not safe to train or
    /// evaluate from two threads at once, so a second concurrent user gets a clear error instead.
    /// </summary>
    internal IDisposable Acquire(string operation)
    {
        if (_disposed)
        {
            throw DisposedError();
        }
        if (Interlocked.CompareExchange(ref _inUse, 1, 0) != 0)
        {
            // Dispose from another runspace holds the claim for good once it has freed the weights.
            throw _disposed ? DisposedError() : new MlpToolsException("ModelInUse", FailureKind.InvalidOperation,
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

    private MlpToolsException DisposedError() => new("ModelDisposed", FailureKind.InvalidOperation,
        $"Model '{Name}' has been disposed and its weights are gone. Create or import the model again.", this);

    /// <summary>Frees the native weights; while a command is still using the model, that happens when it finishes.</summary>
    public void Dispose()
    {
        _disposed = true;
        if (Interlocked.CompareExchange(ref _inUse, 1, 0) == 0)
        {
            _network.Dispose();
        }
    }

    public override string ToString() => $"{Name} ({Layers}, {Activation})";

    private sealed class Release(MlpModel model) : IDisposable
    {
        public void Dispose()
        {
            if (model._disposed)
            {
                model._network.Dispose();
            }
            Interlocked.Exchange(ref model._inUse, 0);
        }
    }
}
