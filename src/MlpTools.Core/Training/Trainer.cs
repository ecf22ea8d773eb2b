using System.Diagnostics;
using MlpTools.Core.Data;
using MlpTools.Core.Modeling;
using MlpTools.Core.Native;
using MlpTools.Core.Persistence;
using TorchSharp;
using static TorchSharp.torch;

namespace MlpTools.Core.Training;

/// <summary>The notebook's training loop: Adam, cross-entropy, a fresh shuffle every epoch.</summary>
public static class Trainer
{
    /// <summary>
    /// Trains <paramref name="model"/> in place and yields a record as each epoch ends. Cancelling stops
    /// between batches; the model then holds the weights of the last completed batch. With a <paramref name="checkpoint"/>,
    /// a checkpoint file is written after every epoch, and a run resumed from one goes on where it stopped.
    /// </summary>
    public static IEnumerable<EpochRecord> Train(MlpModel model, MnistDataset train, MnistDataset? validation, TrainingOptions options,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancel = default, TrainingCheckpoint? checkpoint = null)
    {
        options.Validate();
        if (train.Count == 0)
        {
            throw new MlpToolsException("DatasetEmpty", FailureKind.InvalidArgument,
                $"Dataset '{train.Name}' ({train.Split}) has no images to train on.", train);
        }
        model.EnsureFits(train);
        if (validation is not null)
        {
            model.EnsureFits(validation);
        }
        TorchRuntime.EnsureAvailable();
        return TrainEpochs(model, train, validation, options, progress, cancel, checkpoint);
    }

    private static IEnumerable<EpochRecord> TrainEpochs(MlpModel model, MnistDataset train, MnistDataset? validation, TrainingOptions options,
        IProgress<TrainingProgress>? progress, CancellationToken cancel, TrainingCheckpoint? checkpoint)
    {
        using var lease = model.Acquire("training");
        using var trainData = new DatasetTensors(train);
        using var validationData = validation is null ? null : new DatasetTensors(validation);
        using var optimizer = optim.Adam(model.Network.parameters(), options.LearningRate);
        using var shuffle = new Generator((ulong)options.Seed);
        int batches = (trainData.Count + options.BatchSize - 1) / options.BatchSize;
        // Resuming from a checkpoint restores the optimiser and the shuffle generator and skips the epochs already done.
        int epochsDone = checkpoint?.Restore(optimizer, shuffle) ?? 0;
        int targetEpochs = model.EpochsTrained - epochsDone + options.Epochs;

        for (int epoch = epochsDone + 1; epoch <= options.Epochs; epoch++)
        {
            var clock = Stopwatch.StartNew();
            double lossSum = TrainEpoch(model, trainData, optimizer, shuffle, options.BatchSize, batches,
                batch => progress?.Report(new TrainingProgress(epoch, options.Epochs, batch.Index, batches, batch.RunningLoss)), cancel);
            // Records count the model's epochs across every training run: a second run of 3 after 2 yields epochs 3 to 5 of 5.
            model.EpochsTrained++;
            double trainAccuracy = Evaluator.Accuracy(model, trainData).Accuracy;
            double? validationAccuracy = validationData is null ? null : Evaluator.Accuracy(model, validationData).Accuracy;
            var record = new EpochRecord(model.Name, model.EpochsTrained, targetEpochs, lossSum / batches, trainAccuracy, validationAccuracy,
                clock.Elapsed.TotalSeconds, options.BatchSize, options.LearningRate, options.Seed);
            model.History.Record(record, options, train, validation);
            checkpoint?.Save(model, optimizer, shuffle, record);
            // Records are yielded outside every dispose scope, so nothing the caller does can leak into them.
            yield return record;
        }
    }

    /// <summary>One pass over the shuffled data; returns the sum of the batch losses (the notebook averages it per batch).</summary>
    private static double TrainEpoch(MlpModel model, DatasetTensors data, optim.Optimizer optimizer, Generator shuffle, int batchSize, int batches,
        Action<(int Index, double RunningLoss)> onBatch, CancellationToken cancel)
    {
        model.Network.train();
        using var epochScope = NewDisposeScope();
        Tensor order = randperm(data.Count, generator: shuffle);
        double lossSum = 0;
        for (int batch = 0; batch < batches; batch++)
        {
            cancel.ThrowIfCancellationRequested();
            using var batchScope = NewDisposeScope();
            long start = (long)batch * batchSize;
            var (images, labels) = data.Gather(order.narrow(0, start, Math.Min(batchSize, data.Count - start)));
            Tensor loss = nn.functional.cross_entropy(model.Forward(images), labels);
            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
            lossSum += loss.item<float>();
            onBatch((batch + 1, lossSum / (batch + 1)));
        }
        return lossSum;
    }
}
