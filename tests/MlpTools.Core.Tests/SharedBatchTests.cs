using MlpTools.Core.Data;
using MlpTools.Core.Data.Tabular;
using MlpTools.Core.Modeling;
using MlpTools.Core.Platform;
using MlpTools.Core.Training;
using TorchSharp;
using Xunit;
using static MlpTools.Core.Tests.TestData;
using static MlpTools.Core.Tests.TrainerToolbox;

namespace MlpTools.Core.Tests;

/// <summary>Tests that open libtorch thread-count scopes (the shares' threads open one each) run one at a time.</summary>
[CollectionDefinition(Name)]
public sealed class LibTorchThreadCountCollection
{
    public const string Name = "libtorch thread count";
}

/// <summary>Batches and evaluations whose rows are shared among threads (<see cref="BatchWorkers"/>, Trainer.Train's shares).</summary>
[Collection(LibTorchThreadCountCollection.Name)]
public class SharedBatchTests
{
    // ---- Cutting rows into shares ----

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(5)]
    public void SharesAreConsecutiveCoverEveryRowOnceAndDifferByAtMostOneRow(int shares)
    {
        for (long rows = shares; rows <= 70; rows++)
        {
            var parts = Enumerable.Range(0, shares).Select(share => BatchWorkers.Share(rows, share, shares)).ToArray();
            Assert.Equal(0, parts[0].Start);
            for (int share = 1; share < shares; share++)
            {
                Assert.Equal(parts[share - 1].Start + parts[share - 1].Length, parts[share].Start);
            }
            Assert.Equal(rows, parts[^1].Start + parts[^1].Length);
            Assert.InRange(parts.Max(p => p.Length) - parts.Min(p => p.Length), 0, 1);
            Assert.True(parts.Zip(parts.Skip(1)).All(pair => pair.First.Length >= pair.Second.Length), "larger shares first");
        }
    }

    [Theory]
    [InlineData(256, 2, 2)]
    [InlineData(256, 64, 8)]
    [InlineData(64, 2, 2)]
    [InlineData(63, 2, 1)]
    [InlineData(8, 4, 1)]
    [InlineData(60_000, 3, 3)]
    public void ThreadsBeyondOnePer32RowsStayIdle(long rows, int threads, int expected) =>
        Assert.Equal(expected, TrainingThreads.SharesFor(rows, threads));

    // ---- The workers ----

    [Fact]
    public void EachShareRunsOnAThreadOfItsOwnTheFirstOnTheCallerAndResultsComeInShareOrder()
    {
        using var workers = new BatchWorkers(3);

        var results = workers.Run(3, share => (Share: share, Thread: Environment.CurrentManagedThreadId));
        var two = workers.Run(2, share => share * 10);

        Assert.Equal(new[] { 0, 1, 2 }, results.Select(r => r.Share));
        Assert.Equal(Environment.CurrentManagedThreadId, results[0].Thread);
        Assert.Equal(3, results.Select(r => r.Thread).Distinct().Count());
        Assert.Equal(new[] { 0, 10 }, two);
    }

    [Fact]
    public void HelperThreadsComputeOnOneLibtorchThread()
    {
        TorchRuntime.EnsureAvailable();
        using var workers = new BatchWorkers(2);

        var counts = workers.Run(2, _ => torch.get_num_threads());

        Assert.Equal(1, counts[1]);
    }

    private sealed class Made : IDisposable
    {
        public bool Disposed { get; private set; }
        public void Dispose() => Disposed = true;
    }

    [Fact]
    public void WhenTheWorkersEndLibtorchsDefaultThreadCountIsWhatItWas()
    {
        TorchRuntime.EnsureAvailable();
        int? before = TorchRuntime.DefaultThreadCount;

        using (var workers = new BatchWorkers(2))
        {
            _ = workers.Run(2, _ => 0);
            // A helper's scope sets the default too while it is open, as any -ThreadCount does.
            Assert.Equal(1, TorchRuntime.DefaultThreadCount);
        }

        Assert.Equal(before, TorchRuntime.DefaultThreadCount);
    }

    [Fact]
    public void AFailingShareFailsTheRunOnceEveryShareHasEndedAndWhatTheOthersMadeIsDisposed()
    {
        using var workers = new BatchWorkers(3);
        var made = new Made[3];

        var error = Assert.Throws<InvalidOperationException>(() => workers.Run(3, share =>
        {
            if (share == 1)
            {
                throw new InvalidOperationException("share 1 failed");
            }
            Thread.Sleep(share == 2 ? 200 : 0);
            return made[share] = new Made();
        }));

        Assert.Equal("share 1 failed", error.Message);
        Assert.True(made[0].Disposed);
        Assert.True(made[2].Disposed, "share 2 had ended (it slept) and its result was disposed");
        // The workers still serve.
        Assert.Equal(new[] { 0, 1, 2 }, workers.Run(3, share => share));
    }

    [Fact]
    public void DisposedWorkersRefuseWorkAndTheirThreadsEnd()
    {
        var workers = new BatchWorkers(2);
        workers.Dispose();
        workers.Dispose();

        Assert.Throws<ObjectDisposedException>(() => workers.Run(1, share => share));
    }

    // ---- Training and evaluation in shares ----

    /// <summary>The parameters after one epoch of one full-batch SGD step at rate 1: the weights minus the batch's gradient.</summary>
    private static float[][] AfterOneFullBatchStep(MlpModel model, MlpDataset data, int shares, double weightDecay = 0)
    {
        var options = new TrainingOptions { Epochs = 1, BatchSize = data.Count, Optimizer = OptimizerKind.SGD, LearningRate = 1, WeightDecay = weightDecay, Seed = 1 };
        _ = Trainer.Train(model, data, null, options, shares: shares).ToList();
        return model.Network.parameters().Select(p => p.detach().cpu().data<float>().ToArray()).ToArray();
    }

    private static void AssertClose(float[][] expected, float[][] actual, double tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int p = 0; p < expected.Length; p++)
        {
            for (int i = 0; i < expected[p].Length; i++)
            {
                Assert.True(Math.Abs(expected[p][i] - actual[p][i]) <= tolerance, $"parameter {p}[{i}]: {expected[p][i]} against {actual[p][i]}");
            }
        }
    }

    [Theory]
    [InlineData(2, 0)]
    [InlineData(3, 0)]
    [InlineData(2, 0.5)]
    public void SharedGradientsAddUpToTheWholeBatchsWithTheL2TermCountedOnce(int shares, double weightDecay)
    {
        var data = Separable(96);
        using var whole = Tiny();
        using var shared = Tiny();

        var expected = AfterOneFullBatchStep(whole, data, 1, weightDecay);
        var actual = AfterOneFullBatchStep(shared, data, shares, weightDecay);

        // Had the L2 term gone with every share, the shared step would have taken λ·W off the weights once more.
        AssertClose(expected, actual, 1e-6);
    }

    /// <summary>80 rows of y = 2·x1 − x2 + 7, and a model for them.</summary>
    private static (MlpDataset Data, Func<MlpModel> Model) LinearTarget()
    {
        var builder = new TableBuilder(new[] { "x1", "x2", "y" }, new TableBuilderOptions { TargetColumns = new[] { "y" } });
        foreach (int i in Enumerable.Range(0, 80))
        {
            builder.AddRow(new object?[] { i % 9 * 1.0, i % 5 * 1.0, 2.0 * (i % 9) - i % 5 + 7 });
        }
        var data = MlpDataset.FromTable("table", "Train", builder.Build("test rows"), "memory");
        return (data, () => MlpModel.Create("r", new MlpArchitecture(2, new[] { 6 }, 1, ActivationSpec.ReLU), 1, Preprocessing.Of(data, 1)));
    }

    [Fact]
    public void RegressionGradientsAddUpTheSameWay()
    {
        var (data, make) = LinearTarget();
        using var whole = make();
        using var shared = make();

        AssertClose(AfterOneFullBatchStep(whole, data, 1), AfterOneFullBatchStep(shared, data, 2), 1e-6);
    }

    [Fact]
    public void RegressionEvaluationInSharesGivesTheSameErrorsToRounding()
    {
        var (data, make) = LinearTarget();
        using var model = make();
        _ = AfterOneFullBatchStep(model, data, 1);
        using var tensors = new DatasetTensors(data, model);
        using var workers = new BatchWorkers(2);

        var alone = Evaluator.Evaluate(model, tensors);
        var shared = Evaluator.Evaluate(model, tensors, workers: workers);

        Assert.Equal(80, shared.Total);
        AssertRelative(alone.Loss, shared.Loss, 1e-6, "loss");
        AssertRelative(alone.Rmse!.Value, shared.Rmse!.Value, 1e-9, "RMSE");
        AssertRelative(alone.Mae!.Value, shared.Mae!.Value, 1e-9, "MAE");
        AssertRelative(alone.R2!.Value, shared.R2!.Value, 1e-9, "R²");
        Assert.True(alone.Rmse > 0);
    }

    [Fact]
    public void SharedTrainingGivesTheSameLossesFromRunToRunAndTheWholeBatchsToRounding()
    {
        var data = Separable(256);
        var options = new TrainingOptions { Epochs = 3, BatchSize = 64, LearningRate = 0.01, Seed = 3 };
        using var a = Tiny();
        using var b = Tiny();
        using var whole = Tiny();

        double[] first = Losses(Trainer.Train(a, data, null, options, shares: 2));
        double[] second = Losses(Trainer.Train(b, data, null, options, shares: 2));
        double[] unshared = Losses(Trainer.Train(whole, data, null, options));

        Assert.Equal(first, second);
        for (int epoch = 0; epoch < 3; epoch++)
        {
            AssertRelative(unshared[epoch], first[epoch], 1e-5, $"epoch {epoch + 1}'s loss");
        }
    }

    [Fact]
    public void GradientNormsAndDecoupledDecayWorkOnSharedGradients()
    {
        var data = Separable(256);
        var options = new TrainingOptions { Epochs = 2, BatchSize = 64, LearningRate = 0.01, Optimizer = OptimizerKind.AdamW, WeightDecay = 0.05, TrackGradient = true, Seed = 3 };
        using var whole = Tiny();
        using var shared = Tiny();

        var unshared = Trainer.Train(whole, data, null, options).ToList();
        var inShares = Trainer.Train(shared, data, null, options, shares: 2).ToList();

        for (int epoch = 0; epoch < 2; epoch++)
        {
            AssertRelative(unshared[epoch].Loss, inShares[epoch].Loss, 1e-5, $"epoch {epoch + 1}'s loss");
            Assert.Equal(2, inShares[epoch].GradientNorms!.Count);
            for (int layer = 0; layer < 2; layer++)
            {
                AssertRelative(unshared[epoch].GradientNorms![layer], inShares[epoch].GradientNorms![layer], 1e-4, $"epoch {epoch + 1}, layer {layer + 1}'s gradient norm");
            }
        }
        AssertRelative(unshared[^1].WeightPenalty, inShares[^1].WeightPenalty, 1e-5, "weight penalty");
    }

    [Fact]
    public void EvaluationInSharesCountsTheSameAndSumsTheSameLossToRounding()
    {
        var data = Separable(200, noiseSeed: 5);
        using var model = Tiny();
        _ = Run(model, Recipe);
        using var tensors = new DatasetTensors(data, model);
        using var workers = new BatchWorkers(3);

        var alone = Evaluator.Evaluate(model, tensors);
        var shared = Evaluator.Evaluate(model, tensors, workers: workers);

        Assert.Equal(alone.Correct, shared.Correct);
        Assert.Equal(alone.Confusion!.ToArray(), shared.Confusion!.ToArray());
        // Each batch sums its losses in float32, and the shares cut the batches elsewhere.
        AssertRelative(alone.Loss, shared.Loss, 1e-6, "loss");
        Assert.NotEqual(0, alone.Loss);
    }

    [Fact]
    public void DivergenceInASharedBatchStopsWithTrainingDivergedAndKeepsFiniteWeights()
    {
        var data = Separable(64);
        using var model = Tiny();

        var error = Fails("TrainingDiverged", () => Trainer.Train(model, data, null,
            new TrainingOptions { Epochs = 5, BatchSize = 64, Optimizer = OptimizerKind.SGD, LearningRate = 1000, WeightDecay = 1000, Seed = 1 }, shares: 2).ToList());

        Assert.Contains("smaller learning rate than 1000", error.Message);
        Assert.All(Confidences(model, data), c => Assert.True(double.IsFinite(c), $"confidence {c}"));
    }

    [Fact]
    public void AModelWithDropoutIsNotShared()
    {
        using var model = Tiny(dropout: 0.5);

        Assert.Throws<ArgumentOutOfRangeException>(() => Trainer.Train(model, Train32, null, Recipe, shares: 2));
    }
}
