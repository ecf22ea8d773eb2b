using System.Management.Automation;
using MlpTools.Core.Data;
using MlpTools.Core.Modeling;
using MlpTools.Core.Training;

namespace MlpTools.Commands;

/// <summary>Trains a model in place with the notebook's recipe, writing one record per epoch as it ends.</summary>
[Cmdlet(VerbsLifecycle.Invoke, "MlpTraining")]
[OutputType(typeof(EpochRecord), typeof(MlpModel))]
public sealed class InvokeMlpTrainingCommand : MlpCmdlet
{
    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    public MlpModel Model { get; set; } = null!;

    [Parameter(Mandatory = true, ValueFromPipeline = true, Position = 0)]
    public MnistDataset Dataset { get; set; } = null!;

    /// <summary>Data to measure accuracy on after each epoch (the notebook uses the test set).</summary>
    [Parameter]
    public MnistDataset? ValidationDataset { get; set; }

    [Parameter]
    [ValidateRange(1, 100_000)]
    public int Epochs { get; set; } = 10;

    [Parameter]
    [ValidateRange(1, 1_000_000)]
    public int BatchSize { get; set; } = 256;

    [Parameter]
    [ValidateRange(1e-12, 1e3)]
    public double LearningRate { get; set; } = 1e-3;

    /// <summary>Seed of the per-epoch shuffle; a random one (recorded on each epoch record) when omitted.</summary>
    [Parameter]
    public long? Seed { get; set; }

    /// <summary>Also write the trained model after the epoch records.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessItem()
    {
        var options = new TrainingOptions
        {
            Epochs = Epochs,
            BatchSize = BatchSize,
            LearningRate = LearningRate,
            Seed = Seed ?? Random.Shared.NextInt64(0, int.MaxValue),
        };
        var progress = new Progress(this);
        foreach (EpochRecord record in Trainer.Train(Model, Dataset, ValidationDataset, options, progress, StopToken))
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
