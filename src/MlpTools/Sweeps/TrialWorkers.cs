using MlpTools.Core.Platform;
using System.Collections;
using System.Collections.ObjectModel;
using System.Management.Automation;
using System.Management.Automation.Remoting;
using System.Management.Automation.Runspaces;
using MlpTools.Core;
using MlpTools.Core.Sweeps;

namespace MlpTools.Sweeps;

/// <summary>A trial ready to run: the parameters for New-Mlp and for Invoke-MlpTraining, as splatting tables.</summary>
internal sealed record TrialWork(SweepTrial Trial, Hashtable ModelParameters, Hashtable TrainingParameters, long Seed);

/// <summary>
/// Somewhere one trial at a time runs: a runspace of this process or a remote session. Each worker runs the same
/// script, which calls New-Mlp and Invoke-MlpTraining by name, so a trial is the same whatever runs it.
/// </summary>
internal abstract class TrialWorker : IDisposable
{
    /// <summary>
    /// Makes the model, trains it and reports each epoch's validation scores. The datasets come as arguments (a
    /// runspace of this process shares the objects) or from the session, where the setup script left them.
    /// </summary>
    private const string TrialScript = """
        param([hashtable]$ModelParameters, [hashtable]$TrainingParameters, $Datasets)
        $ErrorActionPreference = 'Stop'
        if ($null -eq $Datasets) { $Datasets = $global:MlpSweepDatasets }
        $watch = [System.Diagnostics.Stopwatch]::StartNew()
        $model = New-Mlp -Dataset $Datasets.Train @ModelParameters
        try {
            $records = @(Invoke-MlpTraining -Model $model -Dataset $Datasets.Train -ValidationDataset $Datasets.Validation @TrainingParameters)
        }
        finally {
            $model.Dispose()
        }
        [pscustomobject]@{
            Seconds = $watch.Elapsed.TotalSeconds
            Epochs  = @(foreach ($record in $records) {
                    @{ Epoch = $record.Epoch; ValidationLoss = $record.ValidationLoss; ValidationAccuracy = $record.ValidationAccuracy
                        ValidationRmse = $record.ValidationRmse; BestEpoch = $record.BestEpoch }
                })
        }
        """;

    private readonly object _runningLock = new();
    private PowerShell? _running;

    public abstract string Location { get; }

    /// <summary>Readies the worker (a session: checks its MlpTools and sends the datasets). Throws MlpToolsException when it cannot be used.</summary>
    public virtual void Prepare()
    {
    }

    public SweepTrialResult Run(TrialWork work)
    {
        Collection<PSObject> output = Invoke(ps => ps.AddScript(TrialScript).AddArgument(work.ModelParameters).AddArgument(work.TrainingParameters).AddArgument(LocalDatasets));
        PSObject summary = output.LastOrDefault() ?? throw new InvalidOperationException("The trial returned nothing.");
        var epochs = new List<TrialEpoch>();
        foreach (object item in (IEnumerable)Unwrap(summary.Properties["Epochs"].Value)!)
        {
            var epoch = (IDictionary)Unwrap(item)!;
            epochs.Add(new TrialEpoch(Convert.ToInt32(Unwrap(epoch["Epoch"])), Number(epoch["ValidationLoss"]), Number(epoch["ValidationAccuracy"]),
                Number(epoch["ValidationRmse"]), Unwrap(epoch["BestEpoch"]) is { } best ? Convert.ToInt32(best) : null));
        }
        return SweepTrialResult.Of(work.Trial, epochs, Convert.ToDouble(Unwrap(summary.Properties["Seconds"].Value)), Location, work.Seed);
    }

    /// <summary>True when <paramref name="error"/> means the worker itself is gone (a dropped session), not that the trial failed.</summary>
    public virtual bool IsLost(Exception error) => false;

    /// <summary>Stops the trial running now, if any (Ctrl+C on the sweep).</summary>
    public void Stop()
    {
        lock (_runningLock)
        {
            _running?.BeginStop(null, null);
        }
    }

    public virtual void Dispose()
    {
    }

    /// <summary>The datasets for a runspace of this process; null for a session, which holds its own copy.</summary>
    protected virtual Hashtable? LocalDatasets => null;

    protected abstract void Bind(PowerShell ps);

    protected Collection<PSObject> Invoke(Action<PowerShell> build)
    {
        using var ps = PowerShell.Create();
        Bind(ps);
        build(ps);
        lock (_runningLock)
        {
            _running = ps;
        }
        try
        {
            return ps.Invoke();
        }
        finally
        {
            lock (_runningLock)
            {
                _running = null;
            }
        }
    }

    private static object? Unwrap(object? value) => value is PSObject wrapped ? wrapped.BaseObject : value;

    private static double? Number(object? value) => Unwrap(value) is { } number ? Convert.ToDouble(number, System.Globalization.CultureInfo.InvariantCulture) : null;
}

/// <summary>A runspace of a pool in this process, with MlpTools imported; the datasets are shared, not copied.</summary>
internal sealed class LocalTrialWorker(RunspacePool pool, Hashtable datasets) : TrialWorker
{
    public override string Location => "local";

    protected override Hashtable? LocalDatasets => datasets;

    protected override void Bind(PowerShell ps) => ps.RunspacePool = pool;
}

/// <summary>
/// A remote session (SSH or WinRM). It must have the same MlpTools version as this one; the datasets are sent to it
/// once, as bytes, and kept there for its trials.
/// </summary>
internal sealed class RemoteTrialWorker(PSSession session, Version moduleVersion, byte[] trainPayload, byte[] validationPayload) : TrialWorker
{
    private const string VersionScript = """
        $module = Get-Module MlpTools
        if (-not $module) { $module = Import-Module MlpTools -PassThru -ErrorAction SilentlyContinue | Select-Object -First 1 }
        if ($module) { "$($module.Version)" } else { '' }
        """;

    // The payload reader is engine plumbing, not a type accelerator: it is found through the engine's assembly.
    private const string DatasetScript = """
        param([byte[]]$Train, [byte[]]$Validation)
        $payload = [MlpDataset].Assembly.GetType('MlpTools.Core.Sweeps.DatasetPayload', $true)
        $global:MlpSweepDatasets = @{ Train = $payload::Read($Train); Validation = $payload::Read($Validation) }
        """;

    public override string Location => $"{session.ComputerName}/{session.Name}";

    public override void Prepare()
    {
        if (session.Runspace.RunspaceStateInfo.State != RunspaceState.Opened)
        {
            throw Unavailable($"its state is {session.Runspace.RunspaceStateInfo.State}", null);
        }
        string remoteVersion;
        try
        {
            remoteVersion = Invoke(ps => ps.AddScript(VersionScript)).LastOrDefault()?.BaseObject as string ?? "";
        }
        catch (Exception e) when (e is RuntimeException or PSRemotingTransportException or InvalidRunspaceStateException)
        {
            throw Unavailable(e.Message, e);
        }
        if (remoteVersion != moduleVersion.ToString())
        {
            throw new MlpToolsException(ErrorIds.SweepSessionVersionMismatch,
                $"Session '{Location}' has {(remoteVersion.Length == 0 ? "no MlpTools" : $"MlpTools {remoteVersion}")}, this one MlpTools {moduleVersion}. " +
                $"Install the same version there (Install-PSResource MlpTools -Version {moduleVersion}, and its native package), or leave that session out.", session);
        }
        try
        {
            Invoke(ps => ps.AddScript(DatasetScript).AddArgument(trainPayload).AddArgument(validationPayload));
        }
        catch (Exception e) when (e is RuntimeException or PSRemotingTransportException or InvalidRunspaceStateException)
        {
            throw Unavailable($"the datasets could not be sent: {e.Message}", e);
        }
    }

    public override bool IsLost(Exception error) =>
        error is PSRemotingTransportException or InvalidRunspaceStateException || session.Runspace.RunspaceStateInfo.State != RunspaceState.Opened;

    protected override void Bind(PowerShell ps) => ps.Runspace = session.Runspace;

    private MlpToolsException Unavailable(string why, Exception? inner) => new(ErrorIds.SweepSessionUnavailable,
        $"Session '{Location}' cannot run trials: {why}. Check it with Get-PSSession, make a new one with New-PSSession, or leave it out.", session, inner);
}
