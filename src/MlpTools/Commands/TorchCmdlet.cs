using System.Management.Automation;
using MlpTools.Core.Modeling;
using MlpTools.Core.Platform;

namespace MlpTools.Commands;

/// <summary>A cmdlet whose work is libtorch compute (training, accuracy, prediction): it takes -ThreadCount.</summary>
public abstract class TorchCmdlet : MlpCmdlet
{
    /// <summary>
    /// libtorch's intra-op threads for this command; its thread's count and the process-wide default come back when it
    /// ends, the default only when the last of overlapping commands with -ThreadCount ends (see <see cref="TorchRuntime.UseThreads"/>).
    /// Omitted: for training a network whose hidden layers are all narrower than 1024 units, one fewer than the cores
    /// (<see cref="TorchRuntime.TrainingThreadCount"/>); otherwise libtorch's setting, one thread per core by default.
    /// </summary>
    [Parameter]
    [ValidateRange(1, 256)]
    public int? ThreadCount { get; set; }

    /// <summary>The thread count for the length of one ProcessItem; dispose it (in a using) to restore the previous one.</summary>
    protected IDisposable UseThreadCount() => UseThreads(ThreadCount);

    /// <summary>The same for training <paramref name="model"/>, whose default is <see cref="TorchRuntime.TrainingThreadCount"/>.</summary>
    protected IDisposable UseTrainingThreadCount(MlpModel model) =>
        UseThreads(ThreadCount ?? TorchRuntime.TrainingThreadCount(model.HiddenSizes.DefaultIfEmpty(0).Max()), ThreadCount is null ? "training's default for layers this narrow: one fewer than the cores" : null);

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
