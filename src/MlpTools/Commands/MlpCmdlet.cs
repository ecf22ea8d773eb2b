using System.Diagnostics;
using System.Management.Automation;
using MlpTools.Core;

namespace MlpTools.Commands;

/// <summary>
/// What every MlpTools cmdlet shares: a cancellation token tied to Ctrl+C, throttled progress,
/// and the translation of engine failures into ErrorRecords with stable ids.
/// </summary>
public abstract class MlpCmdlet : PSCmdlet
{
    private const int ProgressActivityId = 1;
    private static readonly TimeSpan ProgressInterval = TimeSpan.FromMilliseconds(200);
    private readonly CancellationTokenSource _stop = new();
    private readonly Stopwatch _sinceProgress = Stopwatch.StartNew();
    private bool _progressShown;

    protected CancellationToken StopToken => _stop.Token;

    protected override void StopProcessing() => _stop.Cancel();

    protected sealed override void ProcessRecord() => Run(ProcessItem);

    protected sealed override void EndProcessing() => Run(EndItems);

    private void Run(Action work)
    {
        try
        {
            work();
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            throw new PipelineStoppedException();
        }
        // A missing native library stops everything; so does a failed assertion (-MinimumAccuracy), so that a Pester
        // test or a script fails without -ErrorAction Stop.
        catch (MlpToolsException e) when (e.Kind is FailureKind.NotInstalled or FailureKind.InvalidResult)
        {
            ThrowTerminatingError(ToErrorRecord(e));
        }
        catch (MlpToolsException e)
        {
            WriteError(ToErrorRecord(e));
        }
        catch (Exception e) when (e is not PipelineStoppedException and not ActionPreferenceStopException and not RuntimeException)
        {
            // A failure nobody foresaw (libtorch's own exceptions among them): one clear record, not a stack trace.
            ThrowTerminatingError(new ErrorRecord(e, "UnexpectedEngineFailure", ErrorCategory.NotSpecified, null)
            {
                ErrorDetails = new ErrorDetails($"{MyInvocation.MyCommand.Name} failed unexpectedly: {e.Message} Run Get-Error for details and report it with the command you ran."),
            });
        }
        finally
        {
            CompleteProgress();
        }
    }

    /// <summary>The cmdlet's work for one pipeline input.</summary>
    protected abstract void ProcessItem();

    /// <summary>Work after the last input, for cmdlets that gather their input first (a picture of all of it).</summary>
    protected virtual void EndItems()
    {
    }

    /// <summary>Writes progress at most every 200 ms, so tight loops do not pay for the console.</summary>
    protected void ReportProgress(string activity, string status, double fraction, bool force = false)
    {
        if (!force && _sinceProgress.Elapsed < ProgressInterval)
        {
            return;
        }
        _sinceProgress.Restart();
        _progressShown = true;
        WriteProgress(new ProgressRecord(ProgressActivityId, activity, status) { PercentComplete = (int)Math.Clamp(fraction * 100, 0, 100) });
    }

    private void CompleteProgress()
    {
        if (_progressShown)
        {
            _progressShown = false;
            WriteProgress(new ProgressRecord(ProgressActivityId, MyInvocation.MyCommand.Name, "Done") { RecordType = ProgressRecordType.Completed });
        }
    }

    /// <summary>Resolves a path the PowerShell way: relative to the current location, providers and ~ included.</summary>
    protected string ResolvePath(string path) => SessionState.Path.GetUnresolvedProviderPathFromPSPath(path);

    internal static ErrorRecord ToErrorRecord(MlpToolsException e) => new(e, e.ErrorId, e.Kind switch
    {
        FailureKind.ObjectNotFound => ErrorCategory.ObjectNotFound,
        FailureKind.InvalidData => ErrorCategory.InvalidData,
        FailureKind.InvalidArgument => ErrorCategory.InvalidArgument,
        FailureKind.InvalidOperation => ErrorCategory.InvalidOperation,
        FailureKind.ResourceUnavailable => ErrorCategory.ResourceUnavailable,
        FailureKind.ConnectionError => ErrorCategory.ConnectionError,
        FailureKind.NotInstalled => ErrorCategory.NotInstalled,
        FailureKind.OperationStopped => ErrorCategory.OperationStopped,
        FailureKind.ResourceExists => ErrorCategory.ResourceExists,
        FailureKind.InvalidResult => ErrorCategory.InvalidResult,
        FailureKind.WriteError => ErrorCategory.WriteError,
        _ => ErrorCategory.NotSpecified,
    }, e.Target);
}
