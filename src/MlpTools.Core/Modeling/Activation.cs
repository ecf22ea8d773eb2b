using MlpTools.Core.Platform;
using TorchSharp;
using static TorchSharp.torch;

namespace MlpTools.Core.Modeling;

/// <summary>The non-linearities of the lecture, applied after each hidden layer.</summary>
public enum Activation
{
    ReLU,
    Sigmoid,
    Tanh,
    ELU,
    LeakyReLU,
    GELU,
    Swish,
    Mish,
}

/// <summary>An activation with its parameters: α of ELU, the negative slope of leaky ReLU.</summary>
public sealed record ActivationSpec(Activation Kind, double Alpha = 1.0, double NegativeSlope = 0.01)
{
    public static readonly ActivationSpec ReLU = new(Activation.ReLU);

    internal nn.Module<Tensor, Tensor> CreateLayer() => Kind switch
    {
        Activation.ReLU => nn.ReLU(),
        Activation.Sigmoid => nn.Sigmoid(),
        Activation.Tanh => nn.Tanh(),
        Activation.ELU => nn.ELU(Alpha),
        Activation.LeakyReLU => nn.LeakyReLU(NegativeSlope),
        // The lecture's GELU is the tanh approximation: 0.5x(1 + tanh(√(2/π)(x + 0.044715x³))).
        Activation.GELU => nn.GELU(TorchSharp.Modules.GELU.Approximate.tanh),
        Activation.Swish => nn.SiLU(),
        Activation.Mish => nn.Mish(),
        _ => throw new ArgumentOutOfRangeException(nameof(Kind), Kind, null),
    };

    /// <summary>φ'(z) written out by hand, as the lecture's backpropagation needs it.</summary>
    internal Tensor Derivative(Tensor z)
    {
        switch (Kind)
        {
            case Activation.ReLU:
                return z.gt(0).to(z.dtype);
            case Activation.Sigmoid:
                {
                    var s = z.sigmoid();
                    return s * (1 - s);
                }
            case Activation.Tanh:
                return 1 - z.tanh().pow(2);
            case Activation.ELU:
                return where(z.gt(0), ones_like(z), z.exp() * Alpha);
            case Activation.LeakyReLU:
                return where(z.gt(0), ones_like(z), full_like(z, NegativeSlope));
            case Activation.GELU:
                {
                    double c = Math.Sqrt(2 / Math.PI);
                    var t = ((z + z.pow(3) * 0.044715) * c).tanh();
                    return 0.5 * (1 + t) + 0.5 * z * (1 - t.pow(2)) * c * (1 + 3 * 0.044715 * z.pow(2));
                }
            case Activation.Swish:
                {
                    var s = z.sigmoid();
                    return s + z * s * (1 - s);
                }
            case Activation.Mish:
                {
                    var softplus = nn.functional.softplus(z);
                    var t = softplus.tanh();
                    return t + z * (1 - t.pow(2)) * z.sigmoid();
                }
            default:
                throw new ArgumentOutOfRangeException(nameof(Kind), Kind, null);
        }
    }

    /// <summary>The function's values at <paramref name="x"/> and its derivatives there (by autograd).</summary>
    public static (double[] Values, double[] Derivatives) Evaluate(ActivationSpec activation, double[] x)
    {
        TorchRuntime.EnsureAvailable();
        using var scope = NewDisposeScope();
        using var layer = activation.CreateLayer();
        var input = tensor(x, ScalarType.Float64).requires_grad_(true);
        var output = layer.forward(input);
        output.sum().backward();
        return (output.detach().data<double>().ToArray(), input.grad!.data<double>().ToArray());
    }

    public override string ToString() => Kind switch
    {
        Activation.ELU => $"ELU(α={Alpha})",
        Activation.LeakyReLU => $"LeakyReLU({NegativeSlope})",
        _ => Kind.ToString(),
    };
}
