using static TorchSharp.torch;

namespace MlpTools.Core.Modeling;

/// <summary>
/// Dropout that draws its masks from a generator the trainer seeds, instead of libtorch's global one:
/// same seeds give the same run, and models trained side by side in other runspaces don't disturb it.
/// Inverted dropout, as nn.Dropout: kept units are scaled by 1/(1-p) in training; identity in evaluation.
/// </summary>
internal sealed class SeededDropout : nn.Module<Tensor, Tensor>
{
    private readonly double _probability;

    public SeededDropout(double probability) : base(nameof(SeededDropout)) => _probability = probability;

    /// <summary>Set by the trainer for the length of a run; owned by it.</summary>
    public Generator? Generator { get; set; }

    public override Tensor forward(Tensor input)
    {
        if (!training || _probability == 0)
        {
            // A new handle, not the input itself: Sequential disposes each layer's output once the next layer has read it.
            return input.alias();
        }
        // Drawn on the CPU from the trainer's seeded generator, then moved to the input's device: one seed, the same masks everywhere.
        using var drawn = empty(input.shape, input.dtype).bernoulli_(1 - _probability, Generator);
        using var keep = drawn.to(input.device);
        return input * keep / (1 - _probability);
    }
}
