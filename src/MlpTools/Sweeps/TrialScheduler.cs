using System.Collections.Concurrent;
using MlpTools.Core;
using MlpTools.Core.Sweeps;

namespace MlpTools.Sweeps;

/// <summary>What a worker thread tells the cmdlet's pipeline thread, the only one that may write output or the result file.</summary>
internal abstract record SweepEvent;

internal sealed record TrialFinished(SweepTrialResult Result) : SweepEvent;

internal sealed record TrialFailed(TrialWork Work, string Location, Exception Error) : SweepEvent;

/// <summary>A worker that could not start or was lost; a trial it was running is back in the queue.</summary>
internal sealed record WorkerLost(TrialWorker Worker, TrialWork? Requeued, Exception Error) : SweepEvent;

/// <summary>
/// Runs trials on workers, each worker on a thread of its own taking the next trial as it becomes free. A trial whose
/// worker is lost (a dropped session) goes back in the queue for another; a trial that fails is reported and not retried.
/// The caller reads <see cref="Events"/> on its own thread and calls <see cref="Complete"/> when every trial is accounted for.
/// </summary>
internal sealed class TrialScheduler : IDisposable
{
    private readonly BlockingCollection<TrialWork> _queue = new();
    private readonly BlockingCollection<SweepEvent> _events = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly List<(TrialWorker Worker, Thread Thread)> _workers = new();

    public TrialScheduler(IEnumerable<TrialWork> work, IEnumerable<TrialWorker> workers)
    {
        foreach (var item in work)
        {
            _queue.Add(item);
        }
        foreach (var worker in workers)
        {
            var thread = new Thread(() => Serve(worker)) { IsBackground = true, Name = $"MlpTools sweep {worker.Location}" };
            _workers.Add((worker, thread));
        }
        foreach (var (_, thread) in _workers)
        {
            thread.Start();
        }
    }

    public int WorkerCount => _workers.Count;

    /// <summary>The next event; throws OperationCanceledException when <paramref name="stop"/> is cancelled.</summary>
    public SweepEvent Next(CancellationToken stop) => _events.Take(stop);

    /// <summary>No more trials: idle workers end.</summary>
    public void Complete() => _queue.CompleteAdding();

    public void Dispose()
    {
        _queue.CompleteAdding();
        _stop.Cancel();
        foreach (var (worker, _) in _workers)
        {
            worker.Stop();
        }
        foreach (var (worker, thread) in _workers)
        {
            thread.Join();
            worker.Dispose();
        }
        _stop.Dispose();
    }

    private void Serve(TrialWorker worker)
    {
        try
        {
            worker.Prepare();
        }
        catch (Exception e)
        {
            _events.Add(new WorkerLost(worker, null, e));
            return;
        }
        try
        {
            foreach (var work in _queue.GetConsumingEnumerable(_stop.Token))
            {
                try
                {
                    _events.Add(new TrialFinished(worker.Run(work)));
                }
                catch (Exception e) when (!_stop.IsCancellationRequested && worker.IsLost(e))
                {
                    _queue.Add(work);
                    _events.Add(new WorkerLost(worker, work, e));
                    return;
                }
                catch (Exception e) when (!_stop.IsCancellationRequested)
                {
                    _events.Add(new TrialFailed(work, worker.Location, e));
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The sweep was stopped or ended.
        }
        catch (Exception) when (_stop.IsCancellationRequested)
        {
            // A trial stopped by the sweep's end throws whatever it throws; nobody waits for it any more.
        }
    }
}
