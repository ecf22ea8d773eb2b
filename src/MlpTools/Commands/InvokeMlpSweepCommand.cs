using MlpTools.Core.Platform;
using System.Collections;
using System.Globalization;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using MlpTools.Core;
using MlpTools.Core.Data;
using MlpTools.Core.Sweeps;
using MlpTools.Sweeps;

namespace MlpTools.Commands;

/// <summary>
/// Trains one model per combination of parameter values (a grid) or per random draw, in parallel runspaces or remote
/// sessions, and writes one record per finished trial with its validation scores.
/// </summary>
[Cmdlet(VerbsLifecycle.Invoke, "MlpSweep", SupportsShouldProcess = true)]
[OutputType(typeof(SweepTrialResult))]
public sealed class InvokeMlpSweepCommand : MlpCmdlet
{
    private const string ModelCommand = "New-Mlp";
    private const string TrainingCommand = "Invoke-MlpTraining";

    /// <summary>Parameters the sweep sets itself (or that follow from the data), so they cannot be swept.</summary>
    private static readonly HashSet<string> SetBySweep = new(StringComparer.OrdinalIgnoreCase)
    {
        "Dataset", "ValidationDataset", "Model", "PassThru", "CheckpointPath", "Resume", "ThreadCount", "InputSize", "OutputSize", "Name",
    };

    [Parameter(Mandatory = true, Position = 0)]
    public MlpDataset Dataset { get; set; } = null!;

    /// <summary>The data each trial is scored on.</summary>
    [Parameter(Mandatory = true)]
    public MlpDataset ValidationDataset { get; set; } = null!;

    /// <summary>Parameter name to the values to try, e.g. @{ Activation = 'ReLU','GELU'; HiddenSize = @(256), @(512,256) }.</summary>
    [Parameter(Position = 1)]
    [ValidateNotNull]
    public Hashtable Parameter { get; set; } = new();

    /// <summary>Parameter name to a range @(min, max) to draw from; needs -Count.</summary>
    [Parameter]
    [ValidateNotNull]
    public Hashtable Range { get; set; } = new();

    /// <summary>Names of ranges to draw log-uniformly (learning rate, weight decay).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[] LogScale { get; set; } = Array.Empty<string>();

    /// <summary>Draw this many distinct random trials instead of running the whole grid.</summary>
    [Parameter]
    [ValidateRange(1, SweepTrial.MaxTrials)]
    public int? Count { get; set; }

    [Parameter]
    [ValidateRange(1, Core.Modeling.TrainingOptions.MaxEpochs)]
    public int Epochs { get; set; } = 10;

    /// <summary>Each trial stops when its validation loss stops improving and keeps its best weights.</summary>
    [Parameter]
    public SwitchParameter EarlyStopping { get; set; }

    /// <summary>Seed of the random draws and of every trial's weights and shuffle (unless Seed is swept).</summary>
    [Parameter]
    public long? Seed { get; set; }

    /// <summary>Trials run at the same time in runspaces of this process.</summary>
    [Parameter]
    [ValidateRange(1, 64)]
    public int ThrottleLimit { get; set; } = 1;

    /// <summary>Threads per trial (Invoke-MlpTraining's -ThreadCount); by default the cores divided by -ThrottleLimit.</summary>
    [Parameter]
    [ValidateRange(1, 256)]
    public int? ThreadCount { get; set; }

    /// <summary>Remote sessions to run the trials in, one at a time per session, instead of this process.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public PSSession[]? Session { get; set; }

    /// <summary>A JSON-lines file that each finished trial is appended to.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ResultPath { get; set; }

    /// <summary>Continue the sweep in -ResultPath: the trials it holds are not run again.</summary>
    [Parameter]
    public SwitchParameter Resume { get; set; }

    /// <summary>Where to export the best trial's model, retrained with its parameters and seed when the sweep ends.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? BestModelPath { get; set; }

    /// <summary>Replace an existing -BestModelPath file.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void ProcessItem()
    {
        if (Resume && ResultPath is null)
        {
            throw new MlpToolsException(ErrorIds.SweepResumeWithoutResultPath,
                "-Resume continues the sweep in a result file. Add -ResultPath with the file the sweep wrote.", null);
        }
        var sweepable = SweepableParameters();
        var dimensions = Dimensions(sweepable);
        string? resultPath = ResultPath is null ? null : ResolvePath(ResultPath);
        long seed = Seed ?? (Resume && resultPath is not null ? SweepResultFile.ReadHeader(resultPath)?.Seed : null) ?? Random.Shared.NextInt64(0, int.MaxValue);
        var space = new SweepSpace(dimensions, Count, seed);
        var trials = space.Trials();
        var settings = new Dictionary<string, object> { ["Epochs"] = (long)Epochs, ["EarlyStopping"] = EarlyStopping.IsPresent };
        string fingerprint = SweepFingerprint.Of(new[] { DatasetFingerprint.Of(Dataset).Sha256, DatasetFingerprint.Of(ValidationDataset).Sha256 }, space, settings);
        Version version = ModuleVersion();
        string? bestModelPath = BestModelPath is null ? null : ResolvePath(BestModelPath);
        if (bestModelPath is not null && File.Exists(bestModelPath) && !Force)
        {
            // Refused before any trial runs, not after hours of them.
            throw new MlpToolsException(ErrorIds.ModelFileExists,
                $"'{bestModelPath}' already exists. Add -Force to replace it with the best model when the sweep ends, or give -BestModelPath another file. Nothing was run.", bestModelPath);
        }
        string[] files = new[] { resultPath, bestModelPath }.OfType<string>().ToArray();
        string action = $"Run the sweep's {trials.Count} trial(s) of {Epochs} epoch(s){(Resume ? " not already in the result file" : "")}" +
            (resultPath is null ? "" : $", appending each to {resultPath}") +
            (bestModelPath is null ? "" : $", then retrain the best and export it to {bestModelPath}{(File.Exists(bestModelPath) ? ", replacing the existing file" : "")}");
        if (!ShouldProcess(files.Length == 0 ? $"{trials.Count} trial(s)" : string.Join(", ", files), action))
        {
            return;
        }

        using var results = resultPath is null ? null : SweepResultFile.Open(resultPath, new SweepHeader(fingerprint, seed, version.ToString(), DateTime.UtcNow), Resume);
        var finished = new List<SweepTrialResult>();
        var done = new HashSet<string>(StringComparer.Ordinal);
        foreach (var earlier in results?.Finished ?? Array.Empty<SweepTrialResult>())
        {
            if (done.Add(earlier.Key))
            {
                finished.Add(earlier);
                WriteObject(WithParameterColumns(earlier));
            }
        }
        int? threads = ThreadCount ?? (Session is null ? Math.Max(1, Environment.ProcessorCount / ThrottleLimit) : null);
        var work = trials.Where(t => !done.Contains(t.Key)).Select(t => ToWork(t, seed, threads, sweepable)).ToList();
        WriteVerbose($"Sweep {fingerprint[..12]}: {trials.Count} trials, {trials.Count - work.Count} already in the result file; seed {seed}; " +
            (Session is null ? $"{ThrottleLimit} at a time here, {threads} thread(s) each." : $"{Session.Length} session(s)."));
        if (work.Count > 0)
        {
            Run(work, trials.Count, finished, results);
        }
        if (bestModelPath is not null && SweepTrialResult.Best(finished) is { } best)
        {
            ExportBest(best, bestModelPath, ToWork(trials.First(t => t.Key == best.Key), seed, threads, sweepable));
        }
    }

    private void Run(List<TrialWork> work, int total, List<SweepTrialResult> finished, SweepResultFile? results)
    {
        RunspacePool? pool = null;
        try
        {
            IEnumerable<TrialWorker> workers;
            if (Session is null)
            {
                var state = InitialSessionState.CreateDefault2();
                state.ImportPSModule(new[] { Path.Combine(Path.GetDirectoryName(typeof(InvokeMlpSweepCommand).Assembly.Location)!, "MlpTools.psd1") });
                int size = Math.Min(ThrottleLimit, work.Count);
                pool = RunspaceFactory.CreateRunspacePool(1, size, state, Host);
                pool.Open();
                var datasets = new Hashtable { ["Train"] = Dataset, ["Validation"] = ValidationDataset };
                workers = Enumerable.Range(0, size).Select(_ => new LocalTrialWorker(pool, datasets)).ToArray();
            }
            else
            {
                Version version = ModuleVersion();
                byte[] train = DatasetPayload.Write(Dataset), validation = DatasetPayload.Write(ValidationDataset);
                workers = Session.Select(s => new RemoteTrialWorker(s, version, train, validation)).ToArray();
            }
            using var scheduler = new TrialScheduler(work, workers);
            int open = work.Count, live = scheduler.WorkerCount;
            while (open > 0)
            {
                if (live == 0)
                {
                    throw new MlpToolsException(ErrorIds.SweepNoWorkerLeft,
                        $"No session is left to run the {open} remaining trial(s). Make new sessions and run the sweep again with -ResultPath and -Resume to run only those.", null);
                }
                switch (scheduler.Next(StopToken))
                {
                    case TrialFinished { Result: var result }:
                        open--;
                        results?.Append(result);
                        finished.Add(result);
                        WriteObject(WithParameterColumns(result));
                        var best = SweepTrialResult.Best(finished)!;
                        ReportProgress("Invoke-MlpSweep", $"{finished.Count}/{total} trials; best so far: {best}", (double)finished.Count / total, force: true);
                        break;
                    case TrialFailed failed:
                        open--;
                        WriteError(ToErrorRecord(new MlpToolsException(ErrorIds.SweepTrialFailed,
                            $"{failed.Work.Trial} failed on {failed.Location}: {Reason(failed.Error)} The other trials go on; this one is not in the result file, so -Resume runs it again.", failed.Work.Trial.Parameters, failed.Error)));
                        break;
                    case WorkerLost lost:
                        live--;
                        if (lost.Requeued is null)
                        {
                            WriteError(ToErrorRecord(lost.Error as MlpToolsException ?? new MlpToolsException(ErrorIds.SweepSessionUnavailable,
                                $"'{lost.Worker.Location}' cannot run trials: {Reason(lost.Error)}", lost.Worker.Location, lost.Error)));
                        }
                        else
                        {
                            WriteWarning($"Session '{lost.Worker.Location}' was lost ({Reason(lost.Error)}); {lost.Requeued.Trial} goes to another session.");
                        }
                        break;
                }
            }
            scheduler.Complete();
        }
        finally
        {
            pool?.Dispose();
        }
    }

    private void ExportBest(SweepTrialResult best, string path, TrialWork work)
    {
        WriteVerbose($"Retraining the best trial, {best}, to export it to {path}.");
        const string retrain = """
            param([hashtable]$ModelParameters, [hashtable]$TrainingParameters, $Train, $Validation, [string]$Path, [bool]$Force)
            $model = New-Mlp -Dataset $Train @ModelParameters -ErrorAction Stop
            try {
                $null = Invoke-MlpTraining -Model $model -Dataset $Train -ValidationDataset $Validation @TrainingParameters -ErrorAction Stop
                Export-Mlp -Model $model -Path $Path -Force:$Force -ErrorAction Stop
            }
            finally { $model.Dispose() }
            """;
        InvokeCommand.InvokeScript(false, ScriptBlock.Create(retrain), null, work.ModelParameters, work.TrainingParameters, Dataset, ValidationDataset, path, Force.IsPresent);
        WriteInformation(new InformationRecord($"The best model, {best}, was retrained with the same parameters and seed and exported to {path}.", "Invoke-MlpSweep"));
    }

    /// <summary>The parameters of New-Mlp and Invoke-MlpTraining a sweep may set: name to (metadata, the commands that take it).</summary>
    private Dictionary<string, (ParameterMetadata Metadata, string[] Commands)> SweepableParameters()
    {
        var common = new HashSet<string>(PSCmdlet.CommonParameters.Concat(PSCmdlet.OptionalCommonParameters), StringComparer.OrdinalIgnoreCase);
        var sweepable = new Dictionary<string, (ParameterMetadata, string[])>(StringComparer.OrdinalIgnoreCase);
        foreach (string command in new[] { ModelCommand, TrainingCommand })
        {
            var info = InvokeCommand.GetCommand(command, CommandTypes.Cmdlet);
            foreach (var metadata in info.Parameters.Values.Where(p => !common.Contains(p.Name) && !SetBySweep.Contains(p.Name)))
            {
                sweepable[metadata.Name] = sweepable.TryGetValue(metadata.Name, out var known) ? (known.Item1, known.Item2.Append(command).ToArray()) : (metadata, new[] { command });
            }
        }
        return sweepable;
    }

    private List<SweepDimension> Dimensions(Dictionary<string, (ParameterMetadata Metadata, string[] Commands)> sweepable)
    {
        var logScale = new HashSet<string>(LogScale, StringComparer.OrdinalIgnoreCase);
        foreach (string name in logScale.Where(n => !Range.Keys.Cast<object>().Any(k => string.Equals(k?.ToString(), n, StringComparison.OrdinalIgnoreCase))))
        {
            throw new MlpToolsException(ErrorIds.SweepRangeInvalid,
                $"-LogScale names '{name}', which is not in -Range. Give '{name}' a range @(min, max) in -Range, or leave it out of -LogScale.", name);
        }
        var dimensions = new List<SweepDimension>();
        foreach (DictionaryEntry entry in Parameter)
        {
            var metadata = Find(sweepable, entry.Key);
            object?[] given = entry.Value is IList list && !(metadata.ParameterType.IsArray && list.Cast<object>().All(v => v is not IList and not PSObject { BaseObject: IList }))
                ? list.Cast<object?>().ToArray()
                : new[] { entry.Value };
            dimensions.Add(SweepDimension.OfValues(metadata.Name, given.Select(v => Plain(metadata, v)).ToArray()));
        }
        foreach (DictionaryEntry entry in Range)
        {
            var metadata = Find(sweepable, entry.Key);
            Type type = Nullable.GetUnderlyingType(metadata.ParameterType) ?? metadata.ParameterType;
            bool integer = type == typeof(int) || type == typeof(long);
            object?[] ends = entry.Value is IList list ? list.Cast<object?>().ToArray() : new[] { entry.Value };
            if (!(integer || type == typeof(double)) || ends.Length != 2)
            {
                throw new MlpToolsException(ErrorIds.SweepRangeInvalid,
                    $"-Range '{metadata.Name}' must be two numbers @(min, max) of a numeric parameter; '{metadata.Name}' is a {type.Name} and got {ends.Length} value(s). Give its values in -Parameter instead.", metadata.Name);
            }
            double min = Convert.ToDouble(Plain(metadata, ends[0]), CultureInfo.InvariantCulture), max = Convert.ToDouble(Plain(metadata, ends[1]), CultureInfo.InvariantCulture);
            dimensions.Add(SweepDimension.OfRange(metadata.Name, min, max, logScale.Contains(metadata.Name), integer));
        }
        return dimensions;
    }

    private static ParameterMetadata Find(Dictionary<string, (ParameterMetadata Metadata, string[] Commands)> sweepable, object key)
    {
        string name = key?.ToString() ?? "";
        if (sweepable.TryGetValue(name, out var found))
        {
            return found.Metadata;
        }
        throw new MlpToolsException(ErrorIds.SweepParameterUnknown, SetBySweep.Contains(name)
            ? $"'{name}' is set by Invoke-MlpSweep itself (or follows from the data) and cannot be swept."
            : $"'{name}' is not a parameter of New-Mlp or Invoke-MlpTraining that a sweep can set. Use one of: {string.Join(", ", sweepable.Keys.Order(StringComparer.OrdinalIgnoreCase))}.", name);
    }

    /// <summary>
    /// A value converted to the parameter's type and checked against its declared range, then made plain for the core:
    /// enums by name, whole numbers as long, others as double, switches as bool, sizes as int[].
    /// </summary>
    private static object Plain(ParameterMetadata metadata, object? value)
    {
        Type type = Nullable.GetUnderlyingType(metadata.ParameterType) ?? metadata.ParameterType;
        object converted;
        try
        {
            converted = LanguagePrimitives.ConvertTo(value, type, CultureInfo.InvariantCulture) ?? throw new PSInvalidCastException("null");
        }
        catch (Exception e) when (e is PSInvalidCastException or InvalidCastException or ArgumentException)
        {
            throw InvalidValue(metadata, value, $"it is not a {type.Name}");
        }
        foreach (var range in metadata.Attributes.OfType<ValidateRangeAttribute>())
        {
            foreach (object item in converted is Array array ? array.Cast<object>() : new[] { converted })
            {
                if (item is IComparable comparable && range.MinRange is not null && range.MaxRange is not null &&
                    (comparable.CompareTo(LanguagePrimitives.ConvertTo(range.MinRange, item.GetType(), CultureInfo.InvariantCulture)) < 0 ||
                     comparable.CompareTo(LanguagePrimitives.ConvertTo(range.MaxRange, item.GetType(), CultureInfo.InvariantCulture)) > 0))
                {
                    throw InvalidValue(metadata, value, $"it must be from {range.MinRange} to {range.MaxRange}");
                }
            }
        }
        return converted switch
        {
            Enum named => named.ToString(),
            SwitchParameter flag => flag.IsPresent,
            int or long or short or byte => Convert.ToInt64(converted, CultureInfo.InvariantCulture),
            float or double => Convert.ToDouble(converted, CultureInfo.InvariantCulture),
            bool or string or int[] => converted,
            _ => throw InvalidValue(metadata, value, $"a sweep cannot vary a {type.Name}"),
        };
    }

    private static MlpToolsException InvalidValue(ParameterMetadata metadata, object? value, string why) => new(ErrorIds.SweepParameterValueInvalid,
        $"'{value}' is not a value for '{metadata.Name}': {why}. Correct it in -Parameter or -Range.", metadata.Name);

    private TrialWork ToWork(SweepTrial trial, long seed, int? threads, Dictionary<string, (ParameterMetadata Metadata, string[] Commands)> sweepable)
    {
        var model = new Hashtable(StringComparer.OrdinalIgnoreCase) { ["Seed"] = seed };
        var training = new Hashtable(StringComparer.OrdinalIgnoreCase) { ["Seed"] = seed, ["Epochs"] = Epochs };
        if (EarlyStopping)
        {
            training["EarlyStopping"] = true;
        }
        if (threads is int count)
        {
            training["ThreadCount"] = count;
        }
        foreach (var (name, value) in trial.Parameters)
        {
            foreach (string command in sweepable[name].Commands)
            {
                (command == ModelCommand ? model : training)[name] = value;
            }
        }
        long trialSeed = trial.Parameters.TryGetValue("Seed", out object? swept) ? Convert.ToInt64(swept, CultureInfo.InvariantCulture) : seed;
        return new TrialWork(trial, model, training, trialSeed);
    }

    /// <summary>The record with one column per swept parameter, so that Format-Table, Sort-Object and Export-Csv see them.</summary>
    private static PSObject WithParameterColumns(SweepTrialResult result)
    {
        var wrapped = PSObject.AsPSObject(result);
        foreach (var (name, value) in result.Parameters)
        {
            if (wrapped.Properties[name] is null)
            {
                wrapped.Properties.Add(new PSNoteProperty(name, value));
            }
        }
        return wrapped;
    }

    private Version ModuleVersion()
    {
        string manifest = Path.Combine(Path.GetDirectoryName(typeof(InvokeMlpSweepCommand).Assembly.Location)!, "MlpTools.psd1");
        var data = InvokeCommand.InvokeScript(false, ScriptBlock.Create("param($p) (Import-PowerShellDataFile -LiteralPath $p).ModuleVersion"), null, manifest);
        return Version.Parse(data[0].BaseObject.ToString()!);
    }

    private static string Reason(Exception error) => (error is RuntimeException { ErrorRecord: { } record } ? record.Exception?.Message ?? error.Message : error.Message).TrimEnd('.') + ".";
}
