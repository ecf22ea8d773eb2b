using System.Collections.ObjectModel;
using System.Diagnostics;
using System.Management.Automation;
using MlpTools.Core.Platform;

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
    private readonly Stopwatch _activityTime = new();
    private string? _progressActivity;
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
        catch (MlpToolsException e) when (e.Kind is FailureKind.NotInstalled or FailureKind.InvalidResult || GathersAllInput)
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
            ThrowTerminatingError(UnexpectedFailure(e, null,
                $"{MyInvocation.MyCommand.Name} failed unexpectedly: {e.Message} Run Get-Error for details and report it with the command you ran."));
        }
        finally
        {
            CompleteProgress();
        }
    }

    /// <summary>
    /// True for a cmdlet that builds one result from all its input (a dataset from rows): a bad input then stops it, so
    /// that nothing half-built comes out.
    /// </summary>
    protected virtual bool GathersAllInput => false;

    /// <summary>The cmdlet's work for one pipeline input.</summary>
    protected abstract void ProcessItem();

    /// <summary>Work after the last input, for cmdlets that gather their input first (a picture of all of it).</summary>
    protected virtual void EndItems()
    {
    }

    /// <summary>
    /// Writes a verbose message. Under -Debug without -Verbose, PowerShell shows a compiled cmdlet's verbose messages with
    /// an Inquire preference ("Continue with this operation?" after each one), which would halt a script at every line:
    /// there the message goes to the debug stream, which -Debug shows without asking.
    /// </summary>
    protected new void WriteVerbose(string text)
    {
        if (IsBound("Debug") && !IsBound("Verbose"))
        {
            WriteDebug(text);
        }
        else
        {
            base.WriteVerbose(text);
        }
    }

    private bool IsBound(string switchName) =>
        MyInvocation.BoundParameters.TryGetValue(switchName, out object? value) && value is SwitchParameter { IsPresent: true };

    /// <summary>
    /// Writes progress: the first record of an activity at once (so even a short operation says what it does), later ones
    /// at most every 200 ms, so tight loops do not pay for the console; each with the time remaining once it can be estimated.
    /// </summary>
    protected void ReportProgress(string activity, string status, double fraction, bool force = false)
    {
        if (activity != _progressActivity)
        {
            _progressActivity = activity;
            _activityTime.Restart();
        }
        else if (!force && _sinceProgress.Elapsed < ProgressInterval)
        {
            return;
        }
        _sinceProgress.Restart();
        _progressShown = true;
        WriteProgress(new ProgressRecord(ProgressActivityId, activity, status)
        {
            PercentComplete = (int)Math.Clamp(fraction * 100, 0, 100),
            SecondsRemaining = SecondsRemaining(_activityTime.Elapsed, fraction),
        });
    }

    /// <summary>
    /// The time left if the rest goes as fast as what is done: elapsed·(1 − f)/f, rounded up; -1 (unknown) before 200 ms
    /// or 1 % have passed, when the rate says little yet.
    /// </summary>
    internal static int SecondsRemaining(TimeSpan elapsed, double fraction) =>
        fraction is < 0.01 or >= 1 || elapsed < ProgressInterval || !double.IsFinite(fraction)
            ? -1
            : (int)Math.Min(int.MaxValue, Math.Ceiling(elapsed.TotalSeconds * (1 - fraction) / fraction));

    /// <summary>Progress for an engine operation that reports the fraction done, on the pipeline thread that runs it.</summary>
    protected IProgress<double> ProgressOf(string activity) => new FractionProgress(this, activity);

    private sealed class FractionProgress(MlpCmdlet cmdlet, string activity) : IProgress<double>
    {
        public void Report(double fraction) => cmdlet.ReportProgress(activity, $"{fraction:P0}", fraction);
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

    /// <summary>Writes the file at <paramref name="path"/> as Get-Item gives it: a FileInfo with PSPath, Mode and the rest, so it prints as a listing.</summary>
    protected void WriteFileItem(string path) => WriteObject(InvokeProvider.Item.Get(new[] { path }, true, true), enumerateCollection: true);

    /// <summary>"12,345 bytes", for verbose messages about files read and written.</summary>
    protected static string SizeOf(string path) => File.Exists(path) ? $"{new FileInfo(path).Length:N0} bytes" : "size unknown";

    /// <summary>Writes a verbose message ending with the time since <paramref name="since"/> started.</summary>
    protected void WriteVerboseTimed(string message, Stopwatch since) => WriteVerbose($"{message} in {since.Elapsed.TotalSeconds:F2} s.");

    /// <summary>
    /// Files named by -Path (wildcards expanded; a pattern that matches nothing is an error with <paramref name="notFoundId"/>)
    /// or -LiteralPath (taken as written), as provider paths.
    /// </summary>
    protected IEnumerable<string> ResolveFiles(string[] paths, bool literal, string notFoundId)
    {
        if (literal)
        {
            return paths.Select(ResolvePath);
        }
        var files = new List<string>();
        foreach (string pattern in paths)
        {
            if (!WildcardPattern.ContainsWildcardCharacters(pattern))
            {
                files.Add(ResolvePath(pattern));
                continue;
            }
            Collection<string> matches;
            try
            {
                matches = SessionState.Path.GetResolvedProviderPathFromPSPath(pattern, out _);
            }
            catch (ItemNotFoundException)
            {
                matches = new Collection<string>();
            }
            WriteDebug($"-Path '{pattern}' matches {matches.Count} file(s).");
            if (matches.Count == 0)
            {
                WriteError(ToErrorRecord(new MlpToolsException(notFoundId, $"No file matches '{pattern}'.", pattern)));
            }
            files.AddRange(matches);
        }
        return files;
    }

    /// <summary>
    /// Runs <paramref name="read"/> for each file <see cref="ResolveFiles"/> finds, on its own: a file it cannot read is an
    /// error record naming it, and the next one is still read.
    /// </summary>
    protected void ForEachPath(string[] paths, bool literal, string notFoundId, Action<string> read)
    {
        foreach (string path in ResolveFiles(paths, literal, notFoundId))
        {
            StopToken.ThrowIfCancellationRequested();
            WriteVerbose($"Reading {path} ({SizeOf(path)}).");
            try
            {
                read(path);
            }
            catch (MlpToolsException e) when (e.Kind != FailureKind.NotInstalled)
            {
                WriteError(ToErrorRecord(e));
            }
            catch (Exception e) when (e is not MlpToolsException and not PipelineStoppedException and not OperationCanceledException)
            {
                // Not even a failure nobody foresaw stops the others: the record names the file.
                WriteError(UnexpectedFailure(e, path,
                    $"{MyInvocation.MyCommand.Name} could not read '{path}': {e.Message} Run Get-Error for details and report it with the file."));
            }
        }
    }

    internal static ErrorRecord ToErrorRecord(MlpToolsException e) => ToErrorRecord(e, e.ErrorId, e.Target);

    private static ErrorRecord UnexpectedFailure(Exception e, object? target, string details)
    {
        ErrorRecord record = ToErrorRecord(e, ErrorIds.UnexpectedEngineFailure, target);
        record.ErrorDetails = new ErrorDetails(details);
        return record;
    }

    /// <summary>A record with its category from the catalogue of error ids.</summary>
    private static ErrorRecord ToErrorRecord(Exception e, string errorId, object? target) => new(e, errorId, ErrorIds.KindOf(errorId) switch
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
    }, target);
}
