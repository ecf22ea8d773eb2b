using MlpTools.Core.Data;
using MlpTools.Core.Modeling;
using MlpTools.Core.Platform;
using TorchSharp;
using static TorchSharp.torch;

namespace MlpTools.Core.Training;

/// <summary>How far autograd's ∂J/∂W(l) is from an independent reference, for one weight matrix.</summary>
public sealed record GradientCheckResult(string ModelName, string Layer, string Method, int EntriesChecked, double MaxRelativeError, double GradientNorm);

/// <summary>
/// Checks the model's autograd gradients of J = L + λ/2·Σ‖W‖² on a small batch against the lecture's
/// hand-derived backpropagation (one hidden layer) or against central finite differences (any depth).
/// Runs in double precision and in evaluation mode (no dropout), so differences are the method's, not rounding's.
/// </summary>
public static class GradientCheck
{
    // In double precision the rounding error of a central difference is ~1e-16·J/h and its truncation error ~h²·J''':
    // 1e-4 keeps both far below the gradients being checked.
    private const double FiniteDifferenceStep = 1e-4;
    private const int FiniteDifferenceEntriesPerLayer = 20;

    public enum Method
    {
        /// <summary>Hand-derived backpropagation when the model has one hidden layer, else finite differences.</summary>
        Auto,
        Backpropagation,
        FiniteDifferences,
    }

    /// <param name="progress">Told the fraction of the weight matrices checked, after each one.</param>
    public static IReadOnlyList<GradientCheckResult> Run(MlpModel model, MlpDataset dataset, int batchSize, double weightDecay, Method method, long seed,
        IProgress<double>? progress = null)
    {
        model.Bind(dataset);
        if (model.Task != MlpTask.Classification || !dataset.HasAnswers)
        {
            throw new MlpToolsException(ErrorIds.GradientCheckTaskUnsupported,
                $"The gradient check follows the lecture's derivation for softmax and cross-entropy, so it needs a classification model and labelled data; " +
                $"model '{model.Name}' is a {model.Task.ToString().ToLowerInvariant()} model and dataset '{dataset.Name}' has {(dataset.HasAnswers ? "answers" : "no labels")}.", model);
        }
        if (dataset.Count == 0)
        {
            throw new MlpToolsException(ErrorIds.DatasetEmpty,
                $"Dataset '{dataset.Name}' ({dataset.Split}) has no images to take gradients over.", dataset);
        }
        if (batchSize <= 0 || weightDecay < 0 || !double.IsFinite(weightDecay))
        {
            throw new MlpToolsException(ErrorIds.GradientCheckOptionInvalid,
                $"The batch size must be positive and the weight decay zero or positive; got {batchSize} and {weightDecay}.", batchSize);
        }
        if (method == Method.Backpropagation && model.HiddenSizes.Count != 1)
        {
            throw new MlpToolsException(ErrorIds.GradientCheckMethodInvalid,
                $"The lecture derives backpropagation by hand for one hidden layer; model '{model.Name}' has {model.HiddenSizes.Count}. Use -Method FiniteDifferences.", model);
        }
        bool handDerived = method == Method.Backpropagation || (method == Method.Auto && model.HiddenSizes.Count == 1);
        TorchRuntime.EnsureAvailable();
        using var lease = model.Acquire("a gradient check");
        using var data = new DatasetTensors(dataset, model);
        using var scope = NewDisposeScope();
        var (images, labels) = data.Slice(0, Math.Min(batchSize, dataset.Count));
        var x = images.to(ScalarType.Float64);
        // Double precision for the check only: float32 → float64 → float32 gives back the same weights bit for bit.
        model.Network.to(ScalarType.Float64);
        try
        {
            model.Network.eval();
            var weights = model.LinearLayers.Select(l => l.weight!).ToArray();
            var biases = model.LinearLayers.Select(l => l.bias!).ToArray();
            model.Network.zero_grad();
            Objective(model, nn.functional.cross_entropy(model.Forward(x), labels), weightDecay).backward();
            var autograd = weights.Select(w => w.grad!.detach().clone()).ToArray();
            model.Network.zero_grad();

            using var noGrad = no_grad();
            var results = new List<GradientCheckResult>();
            if (handDerived)
            {
                var reference = Backpropagate(model.Architecture.Activation, x, labels, weights, biases, weightDecay);
                for (int l = 0; l < weights.Length; l++)
                {
                    results.Add(Compare(model, l, "Backpropagation", autograd[l], reference[l]));
                }
                progress?.Report(1);
                return results;
            }
            var sampler = new Random(unchecked((int)seed));
            for (int l = 0; l < weights.Length; l++)
            {
                var (got, expected) = FiniteDifferences(model, x, labels, weights, weightDecay, l, autograd[l], sampler);
                results.Add(Compare(model, l, "FiniteDifferences", got, expected, autograd[l]));
                progress?.Report((l + 1) / (double)weights.Length);
            }
            return results;
        }
        finally
        {
            model.Network.to(ScalarType.Float32);
        }
    }

    private static Tensor Objective(MlpModel model, Tensor loss, double weightDecay) =>
        weightDecay == 0 ? loss : loss + model.SquaredWeights() * (weightDecay / 2);

    /// <summary>
    /// The lecture's backward pass for o = W2·φ(W1·x + b1) + b2, written for a batch of row vectors:
    /// ∂J/∂o = (softmax(o) − y)/n, ∂J/∂W2 = ∂J/∂oᵀ·h + λW2, ∂J/∂z = (∂J/∂o·W2) ⊙ φ'(z), ∂J/∂W1 = ∂J/∂zᵀ·x + λW1.
    /// </summary>
    private static Tensor[] Backpropagate(ActivationSpec activation, Tensor x, Tensor labels, Tensor[] w, Tensor[] b, double weightDecay)
    {
        var z = x.matmul(w[0].t()) + b[0];
        var h = activationOf(activation, z);
        var o = h.matmul(w[1].t()) + b[1];
        var dJdo = (nn.functional.softmax(o, 1) - nn.functional.one_hot(labels, o.shape[1]).to(ScalarType.Float64)) / x.shape[0];
        var dJdW2 = dJdo.t().matmul(h) + w[1] * weightDecay;
        var dJdz = dJdo.matmul(w[1]) * activation.Derivative(z);
        var dJdW1 = dJdz.t().matmul(x) + w[0] * weightDecay;
        return new[] { dJdW1, dJdW2 };

        static Tensor activationOf(ActivationSpec activation, Tensor z)
        {
            using var layer = activation.CreateLayer();
            return layer.forward(z);
        }
    }

    /// <summary>Central differences (J(w+h) − J(w−h))/2h on a seeded sample of the layer's entries.</summary>
    private static (Tensor Autograd, Tensor Numeric) FiniteDifferences(MlpModel model, Tensor x, Tensor labels, Tensor[] weights, double weightDecay,
        int layer, Tensor autograd, Random sampler)
    {
        var flat = weights[layer].view(-1);
        long count = flat.shape[0];
        var entries = Enumerable.Range(0, (int)Math.Min(FiniteDifferenceEntriesPerLayer, count)).Select(_ => sampler.NextInt64(count)).Distinct().ToArray();
        var numeric = new double[entries.Length];
        for (int i = 0; i < entries.Length; i++)
        {
            double original = flat[entries[i]].item<double>();
            flat[entries[i]] = original + FiniteDifferenceStep;
            double plus = Objective(model, nn.functional.cross_entropy(model.Forward(x), labels), weightDecay).item<double>();
            flat[entries[i]] = original - FiniteDifferenceStep;
            double minus = Objective(model, nn.functional.cross_entropy(model.Forward(x), labels), weightDecay).item<double>();
            flat[entries[i]] = original;
            numeric[i] = (plus - minus) / (2 * FiniteDifferenceStep);
        }
        var index = tensor(entries, device: autograd.device);
        return (autograd.view(-1).index_select(0, index), tensor(numeric, device: autograd.device));
    }

    /// <summary>
    /// Largest |a − r| / max(|a|, |r|, floor) over the entries. The floor, a millionth of the layer's largest gradient,
    /// keeps entries that are nearly zero (pixels dark in every image of the batch) from turning rounding into "errors".
    /// </summary>
    private static GradientCheckResult Compare(MlpModel model, int layer, string method, Tensor autograd, Tensor reference, Tensor? fullAutograd = null)
    {
        var full = fullAutograd ?? autograd;
        double floor = Math.Max(full.abs().max().item<double>() * 1e-6, 1e-300);
        var scale = maximum(autograd.abs(), reference.abs()).clamp_min(floor);
        var relative = (autograd - reference).abs() / scale;
        return new GradientCheckResult(model.Name, MlpArchitecture.LayerName(layer), method, (int)autograd.numel(), relative.max().item<double>(),
            full.norm().item<double>());
    }
}
