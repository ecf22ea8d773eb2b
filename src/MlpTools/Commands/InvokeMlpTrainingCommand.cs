using System.Management.Automation;
using MlpTools.Core.Data;
using MlpTools.Core.Modeling;
using MlpTools.Core.Persistence;
using MlpTools.Core.Training;

namespace MlpTools.Commands;

/// <summary>Trains a model in place with the notebook's recipe, writing one record per epoch as it ends.</summary>
[Cmdlet(VerbsLifecycle.Invoke, "MlpTraining", DefaultParameterSetName = TrainSet)]
[OutputType(typeof(EpochRecord), typeof(MlpModel))]
public sealed class InvokeMlpTrainingCommand : MlpCmdlet
{
    private const string TrainSet = "Train";
    private const string ResumeSet = "Resume";

    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = TrainSet)]
    public MlpModel Model { get; set; } = null!;

    [Parameter(Mandatory = true, ValueFromPipeline = true, Position = 0)]
    public MnistDataset Dataset { get; set; } = null!;

    /// <summary>Data to measure accuracy on after each epoch (the notebook uses the test set).</summary>
    [Parameter]
    public MnistDataset? ValidationDataset { get; set; }

    [Parameter(ParameterSetName = TrainSet)]
    [ValidateRange(1, 100_000)]
    public int Epochs { get; set; } = 10;

    [Parameter(ParameterSetName = TrainSet)]
    [ValidateRange(1, 1_000_000)]
    public int BatchSize { get; set; } = 256;

    [Parameter(ParameterSetName = TrainSet)]
    [ValidateRange(1e-12, 1e3)]
    public double LearningRate { get; set; } = 1e-3;

    /// <summary>Seed of the per-epoch shuffle; a random one (recorded on each epoch record) when omitted.</summary>
    [Parameter(ParameterSetName = TrainSet)]
    public long? Seed { get; set; }

    /// <summary>A checkpoint file, replaced after every epoch; with -Resume, the checkpoint to go on from.</summary>
    [Parameter(ParameterSetName = TrainSet)]
    [Parameter(Mandatory = true, ParameterSetName = ResumeSet)]
    [ValidateNotNullOrEmpty]
    public string? CheckpointPath { get; set; }

    /// <summary>Go on with the run saved in -CheckpointPath: its model, recipe, optimiser and random-number state.</summary>
    [Parameter(Mandatory = true, ParameterSetName = ResumeSet)]
    public SwitchParameter Resume { get; set; }

    /// <summary>Also write the trained model after the epoch records.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessItem()
    {
        TrainingOptions options;
        TrainingCheckpoint? checkpoint = null;
        if (Resume)
        {
            var resumed = TrainingCheckpoint.Resume(ResolvePath(CheckpointPath!), Dataset, ValidationDataset);
            (Model, options, checkpoint) = (resumed.Model, resumed.Options, resumed.Checkpoint);
            WriteVerbose($"Resuming '{Model.Name}' from {checkpoint.Path}: {resumed.EpochsCompleted} of {options.Epochs} epochs done.");
        }
        else
        {
            options = new TrainingOptions
            {
                Epochs = Epochs,
                BatchSize = BatchSize,
                LearningRate = LearningRate,
                Seed = Seed ?? Random.Shared.NextInt64(0, int.MaxValue),
            };
            checkpoint = CheckpointPath is null ? null : TrainingCheckpoint.WriteTo(ResolvePath(CheckpointPath));
        }
        var progress = new Progress(this);
        foreach (EpochRecord record in Trainer.Train(Model, Dataset, ValidationDataset, options, progress, StopToken, checkpoint))
        {
            WriteObject(record);
        }
        if (PassThru)
        {
            WriteObject(Model);
        }
    }

    private sealed class Progress(InvokeMlpTrainingCommand command) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => command.ReportProgress($"Training {command.Model.Name}",
            $"Epoch {value.Epoch}/{value.Epochs}, batch {value.Batch}/{value.Batches}, loss {value.RunningLoss:F4}",
            ((value.Epoch - 1) + (double)value.Batch / value.Batches) / value.Epochs);
    }
}
