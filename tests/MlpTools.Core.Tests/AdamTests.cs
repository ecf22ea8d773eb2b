using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace MlpTools.Core.Tests;

/// <summary>
/// The training loop's Adam (libtorch's fused kernel on TorchSharp's state) against Adam's formula computed here in
/// double precision, and against TorchSharp's own Adam, whose saved state it must share.
/// </summary>
public class AdamTests
{
    private const double Rate = 0.01, Beta1 = 0.9, Beta2 = 0.999, Epsilon = 1e-8;

    /// <summary>A weight matrix and a bias with fixed values and, for each step, a gradient that depends on the step.</summary>
    private static (TorchSharp.Modules.Parameter[] Parameters, Func<int, int, float[]> Gradient) Problem()
    {
        var weight = new TorchSharp.Modules.Parameter(tensor(new float[] { 0.5f, -1.25f, 2f, 0.75f, -0.1f, 3f }, 2, 3));
        var bias = new TorchSharp.Modules.Parameter(tensor(new float[] { 0.25f, -0.5f }));
        // Gradients of both signs and sizes from 1e-3 to 10, different at every step.
        float[] Gradient(int parameter, int step) => Enumerable.Range(0, parameter == 0 ? 6 : 2)
            .Select(i => (float)(Math.Sin(step * 1.7 + i * 2.3 + parameter) * Math.Pow(10, (i + step) % 5 - 3))).ToArray();
        return (new[] { weight, bias }, Gradient);
    }

    private static void Step(optim.Optimizer optimizer, TorchSharp.Modules.Parameter[] parameters, Func<int, int, float[]> gradient, int step)
    {
        for (int p = 0; p < parameters.Length; p++)
        {
            parameters[p].grad = tensor(gradient(p, step), parameters[p].shape);
        }
        optimizer.step();
    }

    [Fact]
    public void FollowsAdamsFormulaStepByStep()
    {
        using var scope = NewDisposeScope();
        var (parameters, gradient) = Problem();
        double[][] expected = parameters.Select(p => p.data<float>().Select(v => (double)v).ToArray()).ToArray();
        double[][] m = expected.Select(e => new double[e.Length]).ToArray(), v = expected.Select(e => new double[e.Length]).ToArray();
        using var adam = new Training.Adam(parameters, Rate);
        for (int step = 1; step <= 40; step++)
        {
            Step(adam, parameters, gradient, step);
            for (int p = 0; p < parameters.Length; p++)
            {
                float[] g = gradient(p, step);
                for (int i = 0; i < g.Length; i++)
                {
                    m[p][i] = Beta1 * m[p][i] + (1 - Beta1) * g[i];
                    v[p][i] = Beta2 * v[p][i] + (1 - Beta2) * g[i] * g[i];
                    double corrected = Math.Sqrt(v[p][i]) / Math.Sqrt(1 - Math.Pow(Beta2, step)) + Epsilon;
                    expected[p][i] -= Rate / (1 - Math.Pow(Beta1, step)) * m[p][i] / corrected;
                }
                float[] actual = parameters[p].data<float>().ToArray();
                for (int i = 0; i < actual.Length; i++)
                {
                    // float32 arithmetic against double: a few units in the last place of values near 1.
                    Assert.True(Math.Abs(actual[i] - expected[p][i]) < 2e-6, $"step {step}, parameter {p}[{i}]: {actual[i]} against {expected[p][i]}");
                }
            }
        }
    }

    [Fact]
    public void AgreesWithTorchSharpsAdamAndSharesItsSavedState()
    {
        using var scope = NewDisposeScope();
        var (fused, gradient) = Problem();
        var (reference, _) = Problem();
        using var ours = new Training.Adam(fused, Rate);
        using var theirs = optim.Adam(reference, Rate);
        for (int step = 1; step <= 25; step++)
        {
            Step(ours, fused, gradient, step);
            Step(theirs, reference, gradient, step);
        }
        for (int p = 0; p < fused.Length; p++)
        {
            Assert.True(fused[p].allclose(reference[p], rtol: 0, atol: 2e-6), $"parameter {p}");
        }

        // Saved by one, loaded by the other: the same class name, step count and moments, so checkpoints written before
        // the fused step resume with it and the other way round.
        using var saved = new MemoryStream();
        using (var writer = new BinaryWriter(saved, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            ours.save_state_dict(writer);
        }
        var (restored, _) = Problem();
        using var loader = optim.Adam(restored, Rate);
        saved.Position = 0;
        using (var reader = new BinaryReader(saved))
        {
            loader.load_state_dict(reader);
        }
        var oursState = ours.state_dict().State.Cast<TorchSharp.Modules.Adam.State>().ToArray();
        var loadedState = loader.state_dict().State.Cast<TorchSharp.Modules.Adam.State>().ToArray();
        Assert.All(oursState.Zip(loadedState), pair =>
        {
            Assert.Equal(25, pair.First.step);
            Assert.Equal(25, pair.Second.step);
            Assert.True(pair.First.exp_avg.equal(pair.Second.exp_avg).all().item<bool>());
            Assert.True(pair.First.exp_avg_sq.equal(pair.Second.exp_avg_sq).all().item<bool>());
        });
    }

    [Fact]
    public void StepsWhileTheGarbageCollectorRunsAllTheTime()
    {
        // The arguments TorchSharp makes for the kernel must outlive every collection during the call: with another
        // thread collecting without pause, thousands of steps end exactly where TorchSharp's Adam ends.
        var (fused, gradient) = Problem();
        var (reference, _) = Problem();
        using var ours = new Training.Adam(fused, Rate);
        using var theirs = optim.Adam(reference, Rate);
        using var stop = new CancellationTokenSource();
        var collector = new Thread(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }
        });
        collector.Start();
        try
        {
            for (int step = 1; step <= 3000; step++)
            {
                using var scope = NewDisposeScope();
                Step(ours, fused, gradient, step % 50 + 1);
                Step(theirs, reference, gradient, step % 50 + 1);
            }
        }
        finally
        {
            stop.Cancel();
            collector.Join();
        }
        for (int p = 0; p < fused.Length; p++)
        {
            float[] actual = fused[p].data<float>().ToArray(), expected = reference[p].data<float>().ToArray();
            Assert.All(actual.Zip(expected), pair => Assert.True(Math.Abs(pair.First - pair.Second) < 1e-4, $"parameter {p}: {pair.First} against {pair.Second}"));
        }
    }
}
