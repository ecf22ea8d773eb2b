using System.Management.Automation;
using MlpTools.Core.Modeling;
using MlpTools.Core.Platform;
using MlpTools.Core.Training;

namespace MlpTools.Commands;

/// <summary>A cmdlet whose work is libtorch compute (training, accuracy, prediction): it takes -ThreadCount.</summary>
public abstract class TorchCmdlet : MlpCmdlet
{
    /// <summary>
    /// The threads this command computes on: libtorch's intra-op threads, whose count for its thread and the process-wide
    /// default come back when it ends, the default only when the last of overlapping commands with -ThreadCount ends (see
    /// <see cref="TorchRuntime.UseThreads"/>); for training, how <see cref="TrainingThreads.Plan"/> uses them.
    /// Omitted: libtorch's setting, one thread per core by default; for training, as TrainingThreads.Plan chooses.
    /// </summary>
    [Parameter]
    [ValidateRange(1, 256)]
    public int? ThreadCount { get; set; }

    /// <summary>The thread count for the length of one ProcessItem; dispose it (in a using) to restore the previous one.</summary>
    protected IDisposable UseThreadCount() => UseThreads(ThreadCount);

    /// <summary>
    /// The same for training <paramref name="model"/> in batches of <paramref name="batchSize"/>: the threads as
    /// <see cref="TrainingThreads.Plan"/> uses them, said once; <paramref name="shares"/> is how many threads share each batch.
    /// </summary>
    protected IDisposable UseTrainingThreads(MlpModel model, int batchSize, out int shares)
    {
        bool hasDropout = model.Dropout > 0;
        var plan = TrainingThreads.Plan(ThreadCount, model.HiddenSizes.DefaultIfEmpty(0).Max(), hasDropout, batchSize);
        shares = plan.Shares;
        string source = ThreadCount is not null ? "-ThreadCount"
            : hasDropout ? "training's default for narrow layers with dropout: one fewer than the cores"
            : "training's default for layers this narrow: one per core";
        if (plan.Shares > 1)
        {
            ReportThreadsOnce(() => $"Training shares each batch's rows among {plan.Shares} threads, each computing on one libtorch thread ({source}).");
        }
        else if (plan.IntraOp == 1 && !hasDropout && (ThreadCount ?? Environment.ProcessorCount) > 1)
        {
            // A narrow network that would have been shared, but for its small batches.
            ReportThreadsOnce(() => $"Training computes on 1 thread: batches of {batchSize} are shared among threads only in parts of {TrainingThreads.MinRowsPerShare} rows or more.");
        }
        return UseThreads(plan.IntraOp, ThreadCount is null ? source : null);
    }

    /// <summary>
    /// The same for work on <paramref name="model"/>: a model imported from ONNX runs on ONNX Runtime's own threads, and
    /// libtorch (which may not even be installed) is left alone.
    /// </summary>
    protected IDisposable UseThreadCount(MlpModel model)
    {
        if (model.Runtime == ModelRuntime.LibTorch)
        {
            return UseThreads(ThreadCount);
        }
        ReportThreadsOnce(() => $"Model '{model.Name}' runs in ONNX Runtime, on its own threads; -ThreadCount does not apply to it.");
        return TorchRuntime.UseThreads(null);
    }

    private bool _threadsReported;

    /// <param name="defaultReason">Why <paramref name="threadCount"/> is used when it did not come from -ThreadCount.</param>
    private IDisposable UseThreads(int? threadCount, string? defaultReason = null)
    {
        var scope = TorchRuntime.UseThreads(threadCount);
        if (!_threadsReported && TorchRuntime.ThreadCount is int threads)
        {
            string source = threadCount is null ? "the current setting; libtorch's default is one per core" : defaultReason ?? "-ThreadCount";
            ReportThreadsOnce(() => $"libtorch runs on {threads} intra-op thread(s) ({source}).");
        }
        return scope;
    }

    /// <summary>Says once per command (not per file or batch) which threads compute.</summary>
    private void ReportThreadsOnce(Func<string> message)
    {
        if (!_threadsReported)
        {
            _threadsReported = true;
            WriteVerbose(message());
        }
    }
}
