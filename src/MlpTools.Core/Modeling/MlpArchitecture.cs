using MlpTools.Core.Platform;

namespace MlpTools.Core.Modeling;

/// <summary>The shape of a multilayer perceptron: what New-Mlp's parameters describe.</summary>
public sealed record MlpArchitecture(
    int InputSize,
    IReadOnlyList<int> HiddenSizes,
    int OutputSize,
    ActivationSpec Activation,
    Initialization Initialization = Initialization.KaimingNormal,
    double Dropout = 0)
{
    /// <summary>A copy of the widths given, so later changes to the caller's array cannot reshape the model.</summary>
    public IReadOnlyList<int> HiddenSizes { get; init; } = HiddenSizes.ToArray();

    /// <summary>The widths from input to output joined by dashes, e.g. 784-256-10.</summary>
    public string Layers => string.Join('-', Widths);

    /// <summary>The shape in one line, e.g. "784-256-10 ReLU, KaimingNormal" (a record's own would print HiddenSizes = System.Int32[]).</summary>
    public override string ToString() => $"{Layers} {Activation}, {Initialization}" + (Dropout > 0 ? $", dropout {Dropout:G4}" : "");

    /// <summary>The notebook's network: 784-256-10 with ReLU.</summary>
    public static MlpArchitecture Notebook => new(784, new[] { 256 }, 10, ActivationSpec.ReLU);

    /// <summary>
    /// The most weights and biases a model may have: 2^30 floats, 4 GiB. Larger sizes overflow or exhaust libtorch's
    /// allocator deep in native code, so they are refused before any tensor exists.
    /// </summary>
    public const long MaxParameterCount = 1L << 30;

    /// <summary>
    /// The most hidden layers a model may have. The parameter cap alone would allow a million one-unit layers, a network
    /// that takes minutes and gigabytes to build; no MLP MlpTools trains needs more than a few.
    /// </summary>
    public const int MaxHiddenLayers = 1000;

    /// <summary>The largest α of ELU that New-Mlp accepts.</summary>
    public const double MaxAlpha = 1e6;

    /// <summary>Layer widths from input to output: 784, 256, 10 for the notebook's network.</summary>
    public IReadOnlyList<int> Widths => new[] { InputSize }.Concat(HiddenSizes).Append(OutputSize).ToArray();

    /// <summary>
    /// The name of weight matrix <paramref name="index"/> (0 is the input side) and of its bias: lin_1, lin_2, ... as in the
    /// notebook's class, so that weights map one-to-one onto a PyTorch state_dict.
    /// </summary>
    public static string LayerName(int index) => $"lin_{index + 1}";

    /// <summary>The names and shapes the weights and biases have, in state_dict order.</summary>
    internal IEnumerable<(string Key, long[] Shape)> ParameterShapes()
    {
        IReadOnlyList<int> widths = Widths;
        for (int i = 0; i < widths.Count - 1; i++)
        {
            yield return ($"{LayerName(i)}.weight", new long[] { widths[i + 1], widths[i] });
            yield return ($"{LayerName(i)}.bias", new long[] { widths[i + 1] });
        }
    }

    /// <summary>Weights and biases of the network these sizes describe (as a double: sizes near int.MaxValue overflow a long).</summary>
    public double CountParameters()
    {
        double count = 0;
        int previous = InputSize;
        foreach (int width in HiddenSizes.Append(OutputSize))
        {
            count += (double)previous * width + width;
            previous = width;
        }
        return count;
    }

    internal void Validate()
    {
        if (HiddenSizes.Count > MaxHiddenLayers)
        {
            throw new MlpToolsException(ErrorIds.ModelTooLarge,
                $"A network of {HiddenSizes.Count} hidden layers is more than the {MaxHiddenLayers} MlpTools allows. Use fewer -HiddenSize values.", this);
        }
        RequirePositive(InputSize, "InputSize");
        RequirePositive(OutputSize, "OutputSize");
        foreach (int size in HiddenSizes)
        {
            RequirePositive(size, "HiddenSize");
        }
        double parameters = CountParameters();
        if (parameters > MaxParameterCount)
        {
            throw new MlpToolsException(ErrorIds.ModelTooLarge,
                $"A {string.Join('-', Widths)} network has {parameters:0.###e+0} weights and biases; " +
                $"MlpTools allows at most {MaxParameterCount} (4 GiB). Use smaller -InputSize, -HiddenSize or -OutputSize.", this);
        }
        if (!(Dropout >= 0 && Dropout < 1))
        {
            throw new MlpToolsException(ErrorIds.ModelDropoutInvalid,
                $"Dropout is the probability of zeroing a hidden unit and must be at least 0 and below 1, not {Dropout}.", Dropout);
        }
        // What New-Mlp's parameter types and ranges already ensure, checked here for what comes from files and the core API.
        if (!Enum.IsDefined(Activation.Kind) || !(Activation.Alpha >= 0 && Activation.Alpha <= MaxAlpha) ||
            !(Activation.NegativeSlope >= 0 && Activation.NegativeSlope <= 1))
        {
            throw new MlpToolsException(ErrorIds.ModelActivationInvalid,
                $"The activation must be one of {string.Join(", ", Enum.GetNames<Activation>())}, with α from 0 to {MaxAlpha} and a negative slope " +
                $"from 0 to 1, not {Activation.Kind} with α {Activation.Alpha} and slope {Activation.NegativeSlope}.", Activation);
        }
        if (!Enum.IsDefined(Initialization))
        {
            throw new MlpToolsException(ErrorIds.ModelInitializationInvalid,
                $"The initialisation must be one of {string.Join(", ", Enum.GetNames<Initialization>())}, not {Initialization}.", Initialization);
        }
    }

    private static void RequirePositive(int value, string parameter)
    {
        if (value <= 0)
        {
            throw new MlpToolsException(ErrorIds.ModelSizeInvalid,
                $"{parameter} must be a positive number of units, not {value}.", value);
        }
    }
}
