using MlpTools.Core.Platform;

namespace MlpTools.Core.Training;

/// <summary>How a training computes on threads (see <see cref="Plan"/>).</summary>
/// <param name="IntraOp">libtorch's intra-op threads on the training's thread; null leaves libtorch's setting.</param>
/// <param name="Shares">Threads the rows of each batch are shared among (<see cref="BatchWorkers"/>; 1: the batch is not shared).</param>
public readonly record struct TrainingThreads(int? IntraOp, int Shares)
{
    /// <summary>Below this many rows a share of a batch costs more in meeting than it saves: threads beyond one per this many rows stay idle.</summary>
    public const int MinRowsPerShare = 32;

    /// <summary>
    /// How a training computes on threads: <paramref name="threadCount"/> (-ThreadCount) or, when not told, one per core,
    /// except where OMP_NUM_THREADS chooses or libtorch did not load (libtorch's own setting, so that what fails is the
    /// training, with its own reason). Hidden layers narrower than <see cref="TorchRuntime.WideLayer"/> without dropout:
    /// the rows of every batch are shared among the threads (at least <see cref="MinRowsPerShare"/> rows each), each
    /// computing on one libtorch thread. A batch of 256 through narrow layers is many small operations, each a parallel
    /// region whose libtorch threads must meet; shares meet once per batch, and wait blocked (after a spin of
    /// microseconds). On 2 cores the notebook's job trained faster on two shares than on one thread, and on one thread
    /// faster than on two of libtorch's (README, Benchmark). Wider layers (products large enough to gain from libtorch's
    /// threads) and dropout (whose masks come from one generator, in order) train on libtorch's threads: with dropout,
    /// when not told, one fewer than the cores, for the same reason.
    /// </summary>
    public static TrainingThreads Plan(int? threadCount, int widestHiddenLayer, bool hasDropout, int batchSize)
    {
        bool narrow = widestHiddenLayer < TorchRuntime.WideLayer;
        if (threadCount is int told)
        {
            return narrow && !hasDropout ? new(1, SharesFor(batchSize, told)) : new(told, 1);
        }
        if (TorchRuntime.LoadError is not null || !narrow || Environment.GetEnvironmentVariable("OMP_NUM_THREADS") is { Length: > 0 })
        {
            return new(null, 1);
        }
        return hasDropout
            ? new(Math.Max(1, Environment.ProcessorCount - 1), 1)
            : new(1, SharesFor(batchSize, Environment.ProcessorCount));
    }

    /// <summary>How many shares <paramref name="rows"/> rows are cut into: at most one per thread and per <see cref="MinRowsPerShare"/> rows.</summary>
    internal static int SharesFor(long rows, int threads) => (int)Math.Clamp(rows / MinRowsPerShare, 1, threads);
}
