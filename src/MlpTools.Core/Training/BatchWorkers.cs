using System.Runtime.ExceptionServices;
using MlpTools.Core.Platform;

namespace MlpTools.Core.Training;

/// <summary>
/// Threads that each compute one share of the same work, every one on a single libtorch thread: the rows of a batch
/// (forward and backward) or of an evaluation pass. The calling thread computes share 0; the others wait blocked
/// between tasks (after .NET's spin of a few microseconds), so that a busy machine loses no core to waiting. A narrow
/// network's batch is many small operations, and libtorch's own threads must meet at every one of them; shares of a
/// batch meet once.
/// </summary>
internal sealed class BatchWorkers : IDisposable
{
    private readonly Thread[] _helpers;
    private readonly SemaphoreSlim[] _start;
    private readonly SemaphoreSlim _finished = new(0);
    private readonly object?[] _results;
    private readonly Exception?[] _errors;
    private Func<int, object?>? _work;
    private volatile bool _closing;

    public BatchWorkers(int count)
    {
        if (count < 2)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, "Shares need at least two threads.");
        }
        Count = count;
        _results = new object?[count];
        _errors = new Exception?[count];
        _start = Enumerable.Range(1, count - 1).Select(_ => new SemaphoreSlim(0)).ToArray();
        _helpers = Enumerable.Range(1, count - 1).Select(share => new Thread(() => Serve(share)) { IsBackground = true, Name = $"MlpTools share {share}" }).ToArray();
        foreach (var helper in _helpers)
        {
            helper.Start();
        }
    }

    public int Count { get; }

    /// <summary>
    /// The share of <paramref name="rows"/> rows that thread <paramref name="share"/> of <paramref name="shares"/> takes:
    /// consecutive, sizes differing by at most one, the larger ones first.
    /// </summary>
    public static (long Start, long Length) Share(long rows, int share, int shares)
    {
        long size = rows / shares, larger = rows % shares;
        return (share * size + Math.Min(share, larger), size + (share < larger ? 1 : 0));
    }

    /// <summary>
    /// Runs <paramref name="work"/>(0) to <paramref name="work"/>(<paramref name="shares"/> - 1) at once, one per thread, and
    /// returns their results in share order once all have ended. When a share fails, the results that are disposable are
    /// disposed and the failure of the lowest-numbered share that failed is thrown.
    /// </summary>
    public T[] Run<T>(int shares, Func<int, T> work)
    {
        if (shares < 1 || shares > Count)
        {
            throw new ArgumentOutOfRangeException(nameof(shares), shares, $"From 1 to {Count} shares.");
        }
        ObjectDisposedException.ThrowIf(_closing, this);
        _work = share => work(share);
        Array.Clear(_results);
        Array.Clear(_errors);
        for (int share = 1; share < shares; share++)
        {
            _start[share - 1].Release();
        }
        try
        {
            _results[0] = work(0);
        }
        catch (Exception e)
        {
            _errors[0] = e;
        }
        for (int share = 1; share < shares; share++)
        {
            _finished.Wait();
        }
        _work = null;
        if (_errors.FirstOrDefault(e => e is not null) is { } error)
        {
            // What the other shares made goes with the failure; nobody will use it.
            foreach (var made in _results.OfType<IDisposable>())
            {
                made.Dispose();
            }
            ExceptionDispatchInfo.Capture(error).Throw();
        }
        return _results.Take(shares).Select(r => (T)r!).ToArray();
    }

    private void Serve(int share)
    {
        IDisposable? threads = null;
        try
        {
            while (true)
            {
                _start[share - 1].Wait();
                if (_closing)
                {
                    return;
                }
                try
                {
                    // libtorch's count is per thread: this one computes on itself alone (the scope counts it with
                    // every other, and is opened here so that a failure to open it fails the share, not the process).
                    threads ??= TorchRuntime.UseThreads(1);
                    _results[share] = _work!(share);
                }
                catch (Exception e)
                {
                    _errors[share] = e;
                }
                _finished.Release();
            }
        }
        finally
        {
            threads?.Dispose();
        }
    }

    public void Dispose()
    {
        if (_closing)
        {
            return;
        }
        _closing = true;
        foreach (var start in _start)
        {
            start.Release();
        }
        foreach (var helper in _helpers)
        {
            helper.Join();
        }
        foreach (var start in _start)
        {
            start.Dispose();
        }
        _finished.Dispose();
    }
}
