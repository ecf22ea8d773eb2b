using TorchSharp;
using static TorchSharp.torch;

namespace MlpTools.Core.Modeling;

/// <summary>The non-linearity applied after each hidden layer.</summary>
public enum Activation
{
    ReLU,
}

internal static class ActivationLayers
{
    public static nn.Module<Tensor, Tensor> Create(Activation activation) => activation switch
    {
        Activation.ReLU => nn.ReLU(),
        _ => throw new ArgumentOutOfRangeException(nameof(activation), activation, null),
    };
}
