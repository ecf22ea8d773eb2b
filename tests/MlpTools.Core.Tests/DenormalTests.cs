using System.Runtime.InteropServices;
using MlpTools.Core.Modeling;
using MlpTools.Core.Platform;
using MlpTools.Core.Training;
using Xunit;
using static MlpTools.Core.Tests.TestData;
using static MlpTools.Core.Tests.TrainerToolbox;
using static TorchSharp.torch;

namespace MlpTools.Core.Tests;

/// <summary>Denormal floats flushed to zero while a training computes (<see cref="TorchRuntime.FlushDenormals"/>), and only then.</summary>
[Collection(LibTorchThreadCountCollection.Name)]
public class DenormalTests
{
    /// <summary>1e-30 × 1e-10 in float32 on libtorch: about 1e-40, a denormal, or 0 where denormals are flushed.</summary>
    private static float DenormalProduct()
    {
        using var scope = NewDisposeScope();
        return (tensor(1e-30f) * tensor(1e-10f)).item<float>();
    }

    /// <summary>Whether this machine must flush: every x64 CPU libtorch runs on can; on ARM it depends on libtorch's build.</summary>
    private static bool CanFlush() => RuntimeInformation.ProcessArchitecture == Architecture.X64;

    [Fact]
    public void FlushesOnTheCallingThreadOnlyNestsAndEnds()
    {
        if (!CanFlush())
        {
            return;
        }
        using var threads = TorchRuntime.UseThreads(1);
        Assert.InRange(DenormalProduct(), 9e-41f, 1.1e-40f);

        // Started before: a thread inherits the floating-point modes of the thread that starts it.
        float onOtherThread = 0;
        using var computeNow = new ManualResetEventSlim();
        var other = new Thread(() =>
        {
            computeNow.Wait();
            onOtherThread = DenormalProduct();
        });
        other.Start();
        using (TorchRuntime.FlushDenormals())
        {
            Assert.Equal(0f, DenormalProduct());
            using (TorchRuntime.FlushDenormals())
            {
                Assert.Equal(0f, DenormalProduct());
            }
            Assert.Equal(0f, DenormalProduct());
            computeNow.Set();
            other.Join();
        }

        Assert.InRange(onOtherThread, 9e-41f, 1.1e-40f);
        Assert.InRange(DenormalProduct(), 9e-41f, 1.1e-40f);
    }

    [Fact]
    public void DoesNotFlushWhereLibTorchComputesOnSeveralThreads()
    {
        using var threads = TorchRuntime.UseThreads(2);
        using (TorchRuntime.FlushDenormals())
        {
            Assert.InRange(DenormalProduct(), 9e-41f, 1.1e-40f);
        }
    }

    /// <summary>
    /// Blank images give the first layer's weights no gradient but the L2 term's, λ·W: SGD at rate 1 with λ = 0.5 halves
    /// them exactly at every step, so that after 130 steps they would be 2⁻¹³⁰ of what they were, denormals all. Flushed,
    /// a weight stops at the bottom of float32's normal range, where its halved gradient becomes zero.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void TrainingLeavesNoDenormalWeights(int shares)
    {
        if (!CanFlush())
        {
            return;
        }
        var blank = InMemory(Side, Side, new byte[32 * PixelsPerImage], Enumerable.Range(0, 32).Select(i => (byte)(i % 2)).ToArray());
        var options = new TrainingOptions { Epochs = 130, BatchSize = 32, Optimizer = OptimizerKind.SGD, LearningRate = 1, WeightDecay = 0.5, Seed = 1 };
        // As Invoke-MlpTraining plans it: the training's thread computes on one libtorch thread, shared or not.
        using var threads = TorchRuntime.UseThreads(1);
        using var model = Tiny();
        float[] unflushed = FirstLayerWeights(model).Select(w => w * MathF.Pow(2, -130)).ToArray();
        Assert.All(unflushed, w => Assert.True(w != 0 && Math.Abs(w) < SmallestNormal, $"{w} is a denormal"));

        _ = Trainer.Train(model, blank, null, options, shares: shares).ToList();

        Assert.All(FirstLayerWeights(model), w => Assert.InRange(Math.Abs(w), SmallestNormal, 2 * SmallestNormal));
        Assert.InRange(DenormalProduct(), 9e-41f, 1.1e-40f);
    }

    /// <summary>float32's smallest normal number, 2⁻¹²⁶.</summary>
    private const float SmallestNormal = 1.17549435e-38f;

    private static float[] FirstLayerWeights(MlpModel model) => model.LinearLayers[0].weight!.detach().data<float>().ToArray();
}
