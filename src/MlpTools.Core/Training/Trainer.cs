using System.Diagnostics;
using MlpTools.Core.Data;
using MlpTools.Core.Modeling;
using MlpTools.Core.Native;
using MlpTools.Core.Persistence;
using TorchSharp;
using static TorchSharp.torch;

namespace MlpTools.Core.Training;

/// <summary>
/// The notebook's training loop (Adam, cross-entropy, a fresh shuffle every epoch) and the lecture's
/// regularisers around it: the L2 term, dropout, early stopping, learning-rate schedules.
/// </summary>
public static class Trainer
{
    /// <summary>
    /// Trains <paramref name="model"/> in place and yields a record as each epoch ends. Cancelling stops
    /// between batches; the model then holds the weights of the last completed batch. With a <paramref name="checkpoint"/>,
    /// a checkpoint file is written after every epoch, and a run resumed from one goes on where it stopped.
    /// </summary>
    public static IEnumerable<EpochRecord> Train(MlpModel model, MlpDataset train, MlpDataset? validation, TrainingOptions options,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancel = default, TrainingCheckpoint? checkpoint = null)
    {
        options.Validate();
        model.RequireNetwork("training");
        if (checkpoint is not null && (options.EarlyStopping || options.Schedule != LearningRateSchedule.None))
        {
            // Their state (best weights, plateau counters, the scheduled rate) is not in the checkpoint format yet.
            throw new MlpToolsException("CheckpointOptionUnsupported", FailureKind.InvalidArgument,
                "Checkpoints cannot yet be combined with -EarlyStopping or -LearningRateSchedule: a resumed run could not continue them exactly. Train without -CheckpointPath, or without those options.", options);
        }
        if (train.Count == 0)
        {
            throw new MlpToolsException("DatasetEmpty", FailureKind.InvalidArgument,
                $"Dataset '{train.Name}' ({train.Split}) has no images to train on.", train);
        }
        if (options.ValidationFraction > 0)
        {
            if (validation is not null)
            {
                throw new MlpToolsException("ValidationSourceAmbiguous", FailureKind.InvalidArgument,
                    "Give either a validation dataset or a validation fraction of the training set, not both.", options.ValidationFraction);
            }
            (train, validation) = HoldOut(train, options.ValidationFraction, options.Seed);
        }
        if (options.EarlyStopping && validation is null)
        {
            throw new MlpToolsException("EarlyStoppingNeedsValidation", FailureKind.InvalidArgument,
                "Early stopping watches the loss on data the model does not train on. Give -ValidationDataset, or -ValidationFraction to hold out part of the training set.", train);
        }
        if (!train.HasAnswers)
        {
            throw new MlpToolsException("DatasetUnlabelled", FailureKind.InvalidArgument,
                $"Dataset '{train.Name}' ({train.Split}) has no labels or targets to train on. Build it with -LabelProperty or -TargetProperty (-LabelColumn or -TargetColumn).", train);
        }
        // A model made from sizes alone reads its first training data the way that data asks; after that, data must fit it.
        var preprocessing = model.Preprocessing.FromData || model.EpochsTrained > 0 ? model.Preprocessing : Preprocessing.Of(train, model.OutputSize);
        var trainBinding = preprocessing.Bind(train, model.Name, model.InputSize, model.OutputSize);
        if (validation is not null)
        {
            preprocessing.Bind(validation, model.Name, model.InputSize, model.OutputSize);
        }
        // Standardisation is fitted once, on the first training data (after any hold-out), and kept from then on.
        preprocessing = preprocessing.IsFitted ? preprocessing : preprocessing.FittedOn(train, trainBinding);
        TorchRuntime.EnsureAvailable();
        return TrainEpochs(model, train, validation, options, preprocessing, progress, cancel, checkpoint);
    }

    /// <summary>Splits off a seeded random <paramref name="fraction"/> of <paramref name="dataset"/> for validation.</summary>
    private static (MlpDataset Train, MlpDataset Validation) HoldOut(MlpDataset dataset, double fraction, long seed)
    {
        int held = (int)Math.Round(dataset.Count * fraction);
        if (held == 0 || held == dataset.Count)
        {
            throw new MlpToolsException("ValidationFractionInvalid", FailureKind.InvalidArgument,
                $"A validation fraction of {fraction} of {dataset.Count} images leaves {held} for validation and {dataset.Count - held} for training; both need at least one.", fraction);
        }
        int[] order = Enumerable.Range(0, dataset.Count).ToArray();
        new Random(unchecked((int)seed)).Shuffle(order);
        return (dataset.Subset(order[held..], dataset.Split), dataset.Subset(order[..held], "Validation"));
    }

    private static IEnumerable<EpochRecord> TrainEpochs(MlpModel model, MlpDataset train, MlpDataset? validation, TrainingOptions options,
        Preprocessing preprocessing, IProgress<TrainingProgress>? progress, CancellationToken cancel, TrainingCheckpoint? checkpoint)
    {
        using var lease = model.Acquire("training");
        model.Preprocessing = preprocessing;
        using var trainData = new DatasetTensors(train, model);
        using var validationData = validation is null ? null : new DatasetTensors(validation, model);
        using var optimizer = CreateOptimizer(model, options);
        using var shuffle = new Generator((ulong)options.Seed);
        using var dropout = new Generator((ulong)options.Seed ^ 0x5DEECE66DUL);
        using var run = new RunState(model);
        foreach (var layer in model.DropoutLayers)
        {
            layer.Generator = dropout;
        }
        try
        {
            int batches = (trainData.Count + options.BatchSize - 1) / options.BatchSize;
            // Resuming from a checkpoint restores the optimiser and the generators and skips the epochs already done.
            int epochsDone = checkpoint?.Restore(optimizer, shuffle, dropout) ?? 0;
            int targetEpochs = model.EpochsTrained - epochsDone + options.Epochs;
            var plateau = new ImprovementTracker(options.MinDelta);
            var earlyStop = new ImprovementTracker(options.MinDelta);
            double learningRate = options.LearningRate;
            for (int epoch = epochsDone + 1; epoch <= options.Epochs; epoch++)
            {
                var clock = Stopwatch.StartNew();
                SetLearningRate(optimizer, learningRate);
                var pass = TrainEpoch(model, trainData, optimizer, shuffle, options, learningRate, batches, run,
                    batch => progress?.Report(new TrainingProgress(epoch, options.Epochs, batch.Index, batches, batch.RunningLoss)), cancel);
                // Records count the model's epochs across every training run: a second run of 3 after 2 yields epochs 3 to 5 of 5.
                model.EpochsTrained++;
                var onTrain = Evaluator.Evaluate(model, trainData);
                var onValidation = validationData is null ? (Evaluator.Evaluation?)null : Evaluator.Evaluate(model, validationData);
                double monitored = onValidation?.Loss ?? pass.MeanLoss;

                string? stopReason = null;
                int? bestEpoch = null;
                if (options.EarlyStopping)
                {
                    if (earlyStop.Observe(monitored, model.EpochsTrained))
                    {
                        run.SaveBest();
                    }
                    bestEpoch = earlyStop.BestEpoch;
                    if (earlyStop.EpochsWithoutImprovement >= options.Patience && epoch < options.Epochs)
                    {
                        stopReason = $"Early stopping: the validation loss has not improved by more than {options.MinDelta} for {options.Patience} epochs; " +
                                     $"the model keeps the weights of epoch {earlyStop.BestEpoch} (validation loss {earlyStop.Best:F4}).";
                    }
                }
                bool classifies = model.Task == MlpTask.Classification;
                var record = new EpochRecord(model.Name, model.EpochsTrained, targetEpochs, pass.MeanLoss, classifies ? onTrain.Accuracy : null,
                    onValidation?.Loss, classifies ? onValidation?.Accuracy : null, clock.Elapsed.TotalSeconds, options.BatchSize, learningRate,
                    options.Optimizer.ToString(), options.WeightDecay, WeightPenalty(model, options.WeightDecay), options.Seed,
                    bestEpoch, stopReason, pass.GradientNorms)
                {
                    TrainRmse = onTrain.Rmse,
                    ValidationRmse = onValidation?.Rmse,
                    ValidationMae = onValidation?.Mae,
                    ValidationR2 = onValidation?.R2,
                };
                if (options.EarlyStopping && (stopReason is not null || epoch == options.Epochs))
                {
                    run.RestoreBest();
                }
                model.History.Record(record, options, train, validation);
                checkpoint?.Save(model, optimizer, shuffle, dropout, record);
                // Yielded outside every dispose scope, so nothing the caller does can leak into them.
                yield return record;
                if (stopReason is not null)
                {
                    yield break;
                }
                learningRate = NextLearningRate(options, learningRate, epoch, plateau, monitored);
            }
        }
        finally
        {
            foreach (var layer in model.DropoutLayers)
            {
                layer.Generator = null;
            }
        }
    }

    private readonly record struct EpochPass(double MeanLoss, IReadOnlyList<double>? GradientNorms);

    /// <summary>One pass over the shuffled data.</summary>
    private static EpochPass TrainEpoch(MlpModel model, DatasetTensors data, optim.Optimizer optimizer, Generator shuffle, TrainingOptions options,
        double learningRate, int batches, RunState run, Action<(int Index, double RunningLoss)> onBatch, CancellationToken cancel)
    {
        model.Network.train();
        using var epochScope = NewDisposeScope();
        var weights = model.LinearLayers.Select(l => l.weight!).ToArray();
        // The explicit L2 term is the lecture's J for Adam and SGD; AdamW decays weights outside the gradient instead.
        bool l2InLoss = options.WeightDecay > 0 && options.Optimizer != OptimizerKind.AdamW;
        bool decoupledDecay = options.WeightDecay > 0 && options.Optimizer == OptimizerKind.AdamW;
        Tensor[]? gradientNormSums = options.TrackGradient ? weights.Select(_ => zeros(1, ScalarType.Float64)).ToArray() : null;
        Tensor order = randperm(data.Count, generator: shuffle);
        double lossSum = 0;
        for (int batch = 0; batch < batches; batch++)
        {
            cancel.ThrowIfCancellationRequested();
            using var batchScope = NewDisposeScope();
            long start = (long)batch * options.BatchSize;
            var (inputs, answers) = data.Gather(order.narrow(0, start, Math.Min(options.BatchSize, data.Count - start)));
            Tensor loss = Loss(data.Task, model.Forward(inputs), answers);
            float lossValue = loss.item<float>();
            if (!float.IsFinite(lossValue))
            {
                throw Diverged(model, run, $"the loss became {lossValue} in epoch {model.EpochsTrained + 1}, batch {batch + 1} of {batches}", learningRate);
            }
            run.SaveLastGood();
            Tensor objective = l2InLoss ? loss + SquaredWeights(weights) * (options.WeightDecay / 2) : loss;
            optimizer.zero_grad();
            objective.backward();
            if (gradientNormSums is not null)
            {
                for (int l = 0; l < weights.Length; l++)
                {
                    gradientNormSums[l].add_(weights[l].grad!.norm());
                }
            }
            if (decoupledDecay)
            {
                using var noGrad = no_grad();
                foreach (var weight in weights)
                {
                    weight.mul_(1 - learningRate * options.WeightDecay);
                }
            }
            optimizer.step();
            lossSum += lossValue;
            onBatch((batch + 1, lossSum / (batch + 1)));
        }
        // The last step's weights meet no further batch, so check them directly.
        if (!run.ParametersUsable())
        {
            throw Diverged(model, run, $"the weights became too large for float32 in epoch {model.EpochsTrained + 1}, batch {batches} of {batches}", learningRate);
        }
        return new EpochPass(lossSum / batches, gradientNormSums?.Select(sum => sum.item<double>() / batches).ToArray());
    }

    /// <summary>Cross-entropy for classes (the notebook's), mean squared error of the standardised targets for regression.</summary>
    internal static Tensor Loss(MlpTask task, Tensor outputs, Tensor answers) => task == MlpTask.Regression
        ? nn.functional.mse_loss(outputs, answers)
        : nn.functional.cross_entropy(outputs, answers);

    private static MlpToolsException Diverged(MlpModel model, RunState run, string what, double learningRate)
    {
        run.RestoreLastGood();
        return new MlpToolsException("TrainingDiverged", FailureKind.InvalidOperation,
            $"Training of '{model.Name}' diverged: {what}. Try a smaller learning rate than {learningRate} (for example {learningRate / 10}). " +
            "The model keeps the weights from before the step that broke it.", model);
    }

    private static Tensor SquaredWeights(IEnumerable<Tensor> weights) => weights.Select(w => w.pow(2).sum()).Aggregate((a, b) => a + b);

    /// <summary>The lecture's s = λ/2·Σ‖W‖²_F over the weight matrices.</summary>
    private static double WeightPenalty(MlpModel model, double weightDecay)
    {
        if (weightDecay == 0)
        {
            return 0;
        }
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        return SquaredWeights(model.LinearLayers.Select(l => l.weight!)).item<float>() * weightDecay / 2;
    }

    private static optim.Optimizer CreateOptimizer(MlpModel model, TrainingOptions options) => options.Optimizer switch
    {
        OptimizerKind.SGD => optim.SGD(model.Network.parameters(), options.LearningRate, options.Momentum),
        // AdamW's decay is applied by the loop (to weights, not biases), so the optimiser itself runs without it.
        _ => optim.Adam(model.Network.parameters(), options.LearningRate),
    };

    private static void SetLearningRate(optim.Optimizer optimizer, double learningRate)
    {
        foreach (var group in optimizer.ParamGroups)
        {
            group.LearningRate = learningRate;
        }
    }

    private static double NextLearningRate(TrainingOptions options, double learningRate, int epoch, ImprovementTracker plateau, double monitored)
    {
        switch (options.Schedule)
        {
            case LearningRateSchedule.Step when epoch % options.StepSize == 0:
                return learningRate * options.Gamma;
            case LearningRateSchedule.ReduceOnPlateau:
                plateau.Observe(monitored, epoch);
                if (plateau.EpochsWithoutImprovement >= options.SchedulePatience)
                {
                    plateau.Reset();
                    return learningRate * options.Gamma;
                }
                return learningRate;
            default:
                return learningRate;
        }
    }

    /// <summary>Tracks the lowest value seen and how many epochs have passed without beating it by more than MinDelta.</summary>
    private sealed class ImprovementTracker(double minDelta)
    {
        public double Best { get; private set; } = double.PositiveInfinity;
        public int BestEpoch { get; private set; }
        public int EpochsWithoutImprovement { get; private set; }

        /// <summary>Returns true when <paramref name="value"/> is a new best.</summary>
        public bool Observe(double value, int epoch)
        {
            if (value < Best - minDelta)
            {
                Best = value;
                BestEpoch = epoch;
                EpochsWithoutImprovement = 0;
                return true;
            }
            EpochsWithoutImprovement++;
            return false;
        }

        public void Reset() => EpochsWithoutImprovement = 0;
    }

    /// <summary>
    /// Copies of the weights a run may need to go back to: the last ones that gave a finite loss, and the best
    /// ones early stopping has seen. Preallocated once, so saving is a copy, not an allocation.
    /// </summary>
    private sealed class RunState : IDisposable
    {
        private readonly Tensor[] _parameters;
        private readonly Tensor[] _lastGood;
        private Tensor[]? _best;

        public RunState(MlpModel model)
        {
            _parameters = model.Network.parameters().Select(p => (Tensor)p).ToArray();
            _lastGood = _parameters.Select(p => p.detach().clone().DetachFromDisposeScope()).ToArray();
        }

        public void SaveLastGood() => Copy(_parameters, _lastGood);

        /// <summary>
        /// False when a weight is non-finite or so large that its square overflows float32: such weights give
        /// NaN logits even while each of them is still a finite number.
        /// </summary>
        public bool ParametersUsable()
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            return _parameters.All(p => p.pow(2).sum().isfinite().item<bool>());
        }

        public void RestoreLastGood() => Copy(_lastGood, _parameters);

        public void SaveBest() => Copy(_parameters, _best ??= _parameters.Select(p => p.detach().clone().DetachFromDisposeScope()).ToArray());

        public void RestoreBest()
        {
            if (_best is not null)
            {
                Copy(_best, _parameters);
            }
        }

        private static void Copy(Tensor[] from, Tensor[] to)
        {
            using var noGrad = no_grad();
            for (int i = 0; i < from.Length; i++)
            {
                to[i].copy_(from[i]);
            }
        }

        public void Dispose()
        {
            foreach (var tensor in _lastGood.Concat(_best ?? Array.Empty<Tensor>()))
            {
                tensor.Dispose();
            }
        }
    }
}
