using System.Diagnostics;
using System.Globalization;
using System.Management.Automation;
using MlpTools.Core.Data;
using MlpTools.Core.Modeling;
using MlpTools.Core.Persistence;
using MlpTools.Core.Platform;
using MlpTools.Core.Training;

namespace MlpTools.Commands;

/// <summary>Trains a model in place (the notebook's recipe by default), writing one record per epoch as it ends.</summary>
[Cmdlet(VerbsLifecycle.Invoke, "MlpTraining", DefaultParameterSetName = TrainSet, SupportsShouldProcess = true)]
[OutputType(typeof(EpochRecord), typeof(MlpModel))]
public sealed class InvokeMlpTrainingCommand : TorchCmdlet
{
    private const string TrainSet = "Train";
    private const string ResumeSet = "Resume";

    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = TrainSet)]
    public MlpModel Model { get; set; } = null!;

    [Parameter(Mandatory = true, ValueFromPipeline = true, Position = 0)]
    public MlpDataset Dataset { get; set; } = null!;

    /// <summary>Data to measure accuracy on after each epoch (the notebook uses the test set).</summary>
    [Parameter]
    public MlpDataset? ValidationDataset { get; set; }

    [Parameter(ParameterSetName = TrainSet)]
    [ValidateRange(1, TrainingOptions.MaxEpochs)]
    public int Epochs { get; set; } = 10;

    [Parameter(ParameterSetName = TrainSet)]
    [ValidateRange(1, TrainingOptions.MaxBatchSize)]
    public int BatchSize { get; set; } = 256;

    [Parameter(ParameterSetName = TrainSet)]
    [ValidateRange(TrainingOptions.MinLearningRate, TrainingOptions.MaxLearningRate)]
    public double LearningRate { get; set; } = 1e-3;

    /// <summary>Seed of the per-epoch shuffle; a random one (recorded on each epoch record) when omitted.</summary>
    [Parameter(ParameterSetName = TrainSet)]
    public long? Seed { get; set; }

    [Parameter(ParameterSetName = TrainSet)]
    public OptimizerKind Optimizer { get; set; } = OptimizerKind.Adam;

    /// <summary>Momentum of SGD.</summary>
    [Parameter(ParameterSetName = TrainSet)]
    [ValidateRange(0.0, 0.999999)]
    public double Momentum { get; set; }

    /// <summary>λ of the lecture's J = L + λ/2·Σ‖W‖² (weights only). With AdamW, decoupled decay of the same λ.</summary>
    [Parameter(ParameterSetName = TrainSet)]
    [ValidateRange(0.0, TrainingOptions.MaxWeightDecay)]
    public double WeightDecay { get; set; }

    [Parameter(ParameterSetName = TrainSet)]
    public LearningRateSchedule LearningRateSchedule { get; set; } = LearningRateSchedule.None;

    /// <summary>With -LearningRateSchedule Step: epochs between reductions.</summary>
    [Parameter(ParameterSetName = TrainSet)]
    [ValidateRange(1, TrainingOptions.MaxEpochs)]
    public int StepSize { get; set; } = 5;

    /// <summary>Factor the learning rate is multiplied by at each reduction.</summary>
    [Parameter(ParameterSetName = TrainSet)]
    [ValidateRange(TrainingOptions.MinGamma, 1.0)]
    public double Gamma { get; set; } = 0.1;

    /// <summary>With -LearningRateSchedule ReduceOnPlateau: epochs without improvement before a reduction.</summary>
    [Parameter(ParameterSetName = TrainSet)]
    [ValidateRange(1, TrainingOptions.MaxEpochs)]
    public int SchedulePatience { get; set; } = 2;

    /// <summary>Stop when the validation loss stops improving, and keep the best weights.</summary>
    [Parameter(ParameterSetName = TrainSet)]
    public SwitchParameter EarlyStopping { get; set; }

    [Parameter(ParameterSetName = TrainSet)]
    [ValidateRange(1, TrainingOptions.MaxEpochs)]
    public int Patience { get; set; } = 5;

    [Parameter(ParameterSetName = TrainSet)]
    [ValidateRange(0.0, double.MaxValue)]
    public double MinDelta { get; set; }

    /// <summary>Hold out this share of -Dataset for validation (instead of -ValidationDataset).</summary>
    [Parameter(ParameterSetName = TrainSet)]
    [ValidateRange(0.0, 0.999999)]
    public double ValidationFraction { get; set; }

    /// <summary>Add each layer's mean gradient norm ‖∂J/∂W(l)‖ to every epoch record.</summary>
    [Parameter(ParameterSetName = TrainSet)]
    public SwitchParameter TrackGradient { get; set; }

    /// <summary>Leave TrainAccuracy (or TrainRmse) empty instead of measuring the training data after each epoch.</summary>
    [Parameter(ParameterSetName = TrainSet)]
    public SwitchParameter SkipTrainEvaluation { get; set; }

    /// <summary>
    /// A checkpoint file, replaced after every epoch; with -Resume, the checkpoint to go on from. Taken literally (no
    /// wildcards), as the destination of Copy-Item is.
    /// </summary>
    [Parameter(ParameterSetName = TrainSet)]
    [Parameter(Mandatory = true, ParameterSetName = ResumeSet)]
    [ValidateNotNullOrEmpty]
    public string? CheckpointPath { get; set; }

    /// <summary>Go on with the run saved in -CheckpointPath: its model, recipe, optimiser and random-number state.</summary>
    [Parameter(Mandatory = true, ParameterSetName = ResumeSet)]
    public SwitchParameter Resume { get; set; }

    /// <summary>
    /// Write the trained model instead of the epoch records, which go to the information stream. Without it the model is
    /// trained in place (-Model), or with -Resume kept in the checkpoint file, which Import-Mlp reads.
    /// </summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <summary>
    /// The device to train on: the model moves there and stays there. Omitted: the model's own device (with -Resume, Cpu).
    /// Cpu is the only device of this package; Cuda is refused (DeviceUnavailable) and nothing is changed.
    /// </summary>
    [Parameter]
    public ComputeDevice? Device { get; set; }

    protected override void ProcessItem()
    {
        string? checkpointPath = CheckpointPath is null ? null : ResolvePath(CheckpointPath);
        string action = Resume
            ? $"Resume the training run saved there on '{Dataset.Name}', replacing the checkpoint after every epoch"
            : $"Train model '{Model.Name}' on '{Dataset.Name}' for {Epochs} epoch(s){(checkpointPath is null ? "" : ", writing a checkpoint here after every epoch")}";
        if (!ShouldProcess(checkpointPath ?? $"model '{Model.Name}'", action))
        {
            return;
        }
        var time = Stopwatch.StartNew();
        TrainingOptions options;
        TrainingCheckpoint? checkpoint = null;
        if (Resume)
        {
            WriteVerbose($"Reading checkpoint {checkpointPath} ({SizeOf(checkpointPath!)}).");
            var resumed = TrainingCheckpoint.Resume(checkpointPath!, Dataset, ValidationDataset, StopToken, Device ?? ComputeDevice.Cpu);
            (Model, options, checkpoint) = (resumed.Model, resumed.Options, resumed.Checkpoint);
            WriteVerbose($"Resuming '{Model.Name}' from {checkpoint.Path}: {resumed.EpochsCompleted} of {options.Epochs} epochs done.");
        }
        else
        {
            RefuseIgnoredOptions();
            options = new TrainingOptions
            {
                Epochs = Epochs,
                BatchSize = BatchSize,
                LearningRate = LearningRate,
                Seed = Seed ?? Random.Shared.NextInt64(0, int.MaxValue),
                Optimizer = Optimizer,
                Momentum = Momentum,
                WeightDecay = WeightDecay,
                Schedule = LearningRateSchedule,
                StepSize = StepSize,
                Gamma = Gamma,
                SchedulePatience = SchedulePatience,
                EarlyStopping = EarlyStopping,
                Patience = Patience,
                MinDelta = MinDelta,
                ValidationFraction = ValidationFraction,
                TrackGradient = TrackGradient,
                SkipTrainEvaluation = SkipTrainEvaluation,
            };
            checkpoint = checkpointPath is null ? null : TrainingCheckpoint.WriteTo(checkpointPath, StopToken);
        }
        // After the model is known (with -Resume, from the checkpoint): training's default thread count depends on its width.
        using var threads = UseTrainingThreads(Model, options.BatchSize, out int shares);
        WriteVerbose($"Training '{Model.Name}' ({Model.Layers}, {Model.Activation}, {Model.ParameterCount:N0} parameters) on '{Dataset.Name}' " +
            $"({Dataset.Count:N0} examples){(ValidationDataset is null ? "" : $", validating on '{ValidationDataset.Name}' ({ValidationDataset.Count:N0})")}: {Describe(options)}.");
        WriteDebug($"Options: {options}");
        var progress = new Progress(this);
        foreach (EpochRecord record in Trainer.Train(Model, Dataset, ValidationDataset, options, progress, StopToken, checkpoint, Device, shares))
        {
            WriteVerbose(string.Create(CultureInfo.InvariantCulture, $"{record} ({record.Seconds:F2} s)"));
            if (record.StopReason is not null)
            {
                WriteVerbose($"Stopped early: {record.StopReason}");
            }
            if (checkpoint is not null)
            {
                WriteVerbose($"Wrote checkpoint {checkpoint.Path} ({SizeOf(checkpoint.Path)}) after epoch {record.Epoch}.");
            }
            if (PassThru)
            {
                // The model is the output, so `... -PassThru | Test-MlpAccuracy` binds it; the records stay at hand
                // in the information stream (-InformationVariable, or -InformationAction Continue to see them).
                WriteInformation(WithGradientColumns(record), new[] { "MlpTools", "Epoch" });
            }
            else
            {
                WriteObject(WithGradientColumns(record));
            }
        }
        WriteVerboseTimed($"Trained '{Model.Name}'", time);
        if (PassThru)
        {
            WriteObject(Model);
        }
    }

    /// <summary>The recipe in a sentence: what a user compares between runs.</summary>
    private static string Describe(TrainingOptions options)
    {
        var recipe = new List<string>
        {
            $"{options.Epochs} epoch(s) of batches of {options.BatchSize}",
            string.Create(CultureInfo.InvariantCulture, $"{options.Optimizer} at learning rate {options.LearningRate:G4}") +
                (options.Optimizer == OptimizerKind.SGD ? string.Create(CultureInfo.InvariantCulture, $" with momentum {options.Momentum:G4}") : ""),
        };
        if (options.WeightDecay > 0)
        {
            recipe.Add(string.Create(CultureInfo.InvariantCulture, $"weight decay {options.WeightDecay:G4}"));
        }
        if (options.Schedule != LearningRateSchedule.None)
        {
            recipe.Add($"{options.Schedule} schedule");
        }
        if (options.EarlyStopping)
        {
            recipe.Add($"early stopping after {options.Patience} epoch(s) without improvement");
        }
        if (options.ValidationFraction > 0)
        {
            recipe.Add($"{options.ValidationFraction:P0} held out for validation");
        }
        recipe.Add($"shuffle seed {options.Seed}");
        return string.Join(", ", recipe);
    }

    /// <summary>
    /// Refuses an option given with a combination in which it would do nothing (-Patience without -EarlyStopping, ...).
    /// Checked on the bound parameters, so that the defaults of options not given never count.
    /// </summary>
    private void RefuseIgnoredOptions()
    {
        var given = MyInvocation.BoundParameters;
        bool plateau = LearningRateSchedule == LearningRateSchedule.ReduceOnPlateau;
        var needs = new (string Option, bool Used, string Needs)[]
        {
            (nameof(Patience), EarlyStopping, "-EarlyStopping"),
            (nameof(MinDelta), EarlyStopping || plateau, "-EarlyStopping or -LearningRateSchedule ReduceOnPlateau"),
            (nameof(Momentum), Optimizer == OptimizerKind.SGD, "-Optimizer SGD"),
            (nameof(StepSize), LearningRateSchedule == LearningRateSchedule.Step, "-LearningRateSchedule Step"),
            (nameof(SchedulePatience), plateau, "-LearningRateSchedule ReduceOnPlateau"),
            (nameof(Gamma), LearningRateSchedule != LearningRateSchedule.None, "-LearningRateSchedule Step or ReduceOnPlateau"),
        };
        foreach (var (option, used, needed) in needs)
        {
            if (given.ContainsKey(option) && !used)
            {
                throw new MlpToolsException(ErrorIds.TrainingOptionIgnored,
                    $"-{option} does nothing without {needed}. Add {needed}, or leave -{option} out.", option);
            }
        }
    }

    /// <summary>
    /// One column per layer (GradientNorm_lin_1, ...), so Export-Csv keeps the gradient norms; a regression record is
    /// marked so that it prints with RMSE and R² instead of accuracy (module/MlpTools.Format.ps1xml).
    /// </summary>
    private static object WithGradientColumns(EpochRecord record)
    {
        if (record.GradientNorms is null && record.TrainAccuracy is not null)
        {
            return record;
        }
        var wrapped = PSObject.AsPSObject(record);
        if (record.TrainAccuracy is null)
        {
            wrapped.TypeNames.Insert(0, RegressionRecordTypeName);
        }
        if (record.GradientNorms is null)
        {
            return wrapped;
        }
        for (int layer = 0; layer < record.GradientNorms.Count; layer++)
        {
            wrapped.Properties.Add(new PSNoteProperty($"GradientNorm_{MlpArchitecture.LayerName(layer)}", record.GradientNorms[layer]));
        }
        return wrapped;
    }

    private const string RegressionRecordTypeName = "MlpTools.Core.Modeling.EpochRecord#Regression";

    private sealed class Progress(InvokeMlpTrainingCommand command) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => command.ReportProgress($"Training {command.Model.Name}",
            $"Epoch {value.Epoch}/{value.Epochs}, batch {value.Batch}/{value.Batches}, loss {value.RunningLoss:F4}",
            ((value.Epoch - 1) + (double)value.Batch / value.Batches) / value.Epochs);
    }
}
