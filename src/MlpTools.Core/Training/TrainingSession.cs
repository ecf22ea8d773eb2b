using System.Diagnostics;
using MlpTools.Core.Data;
using MlpTools.Core.Modeling;
using MlpTools.Core.Platform;
using TorchSharp;
using static TorchSharp.torch;

namespace MlpTools.Core.Training;

/// <summary>
/// One training run and everything it changes: the optimiser, the shuffle and dropout generators, the current learning
/// rate and the schedule's plateau tracker, the early-stopping tracker and best weights, the last good weights and the
/// epochs done. A checkpoint saves and restores it whole (<see cref="SessionCheckpoint"/>), so a resumed run goes on
/// exactly as the run that was cut off would have.
/// </summary>
internal sealed class TrainingSession : IDisposable
{
    private readonly DatasetTensors _trainData;
    private readonly DatasetTensors? _validationData;
    private readonly int _batches;
    /// <summary>The threads each batch's rows are shared among; null when one thread takes the whole batch.</summary>
    private readonly BatchWorkers? _workers;

    /// <param name="shares">Threads to share the rows of each batch and of each evaluation among (see <see cref="BatchWorkers"/>); 1 for none.</param>
    public TrainingSession(MlpModel model, MlpDataset givenTrain, MlpDataset? givenValidation, MlpDataset train, MlpDataset? validation, TrainingOptions options,
        int shares = 1)
    {
        (Model, GivenTrain, GivenValidation, Train, Validation, Options) = (model, givenTrain, givenValidation, train, validation, options);
        var made = new List<IDisposable>();
        try
        {
            made.Add(_trainData = new DatasetTensors(train, model));
            if (validation is not null)
            {
                made.Add(_validationData = new DatasetTensors(validation, model));
            }
            made.Add(Optimizer = CreateOptimizer(model, options));
            made.Add(Shuffle = new Generator((ulong)options.Seed));
            made.Add(Dropout = new Generator((ulong)options.Seed ^ 0x5DEECE66DUL));
            made.Add(Weights = new WeightSnapshots(model));
            if (shares > 1)
            {
                made.Add(_workers = new BatchWorkers(shares));
            }
        }
        catch
        {
            made.ForEach(d => d.Dispose());
            throw;
        }
        _batches = (_trainData.Count + options.BatchSize - 1) / options.BatchSize;
        LearningRate = options.LearningRate;
        Plateau = new ImprovementTracker(options.MinDelta);
        EarlyStop = new ImprovementTracker(options.MinDelta);
    }

    public MlpModel Model { get; }
    public TrainingOptions Options { get; }
    /// <summary>The data as given: a checkpoint records these, since the hold-out is recreated from the options' seed and fraction.</summary>
    public MlpDataset GivenTrain { get; }
    public MlpDataset? GivenValidation { get; }
    /// <summary>The data actually trained and validated on, after any -ValidationFraction hold-out.</summary>
    public MlpDataset Train { get; }
    public MlpDataset? Validation { get; }
    public optim.Optimizer Optimizer { get; }
    public Generator Shuffle { get; }
    public Generator Dropout { get; }
    public WeightSnapshots Weights { get; }
    /// <summary>The rate of the next epoch, as the schedule left it.</summary>
    public double LearningRate { get; set; }
    public ImprovementTracker Plateau { get; }
    public ImprovementTracker EarlyStop { get; }
    /// <summary>Epochs of this run finished (of <see cref="TrainingOptions.Epochs"/>).</summary>
    public int EpochsDone { get; set; }
    /// <summary>True once early stopping has ended the run before its last epoch.</summary>
    public bool Stopped { get; set; }

    /// <summary>
    /// The notebook's loop: for each epoch, shuffle, batches, evaluate, record. After each epoch the whole session goes
    /// to <paramref name="checkpoint"/> before the record is handed on.
    /// </summary>
    public IEnumerable<EpochRecord> Run(IProgress<TrainingProgress>? progress, CancellationToken cancel, SessionCheckpoint? checkpoint)
    {
        foreach (var layer in Model.DropoutLayers)
        {
            layer.Generator = Dropout;
        }
        try
        {
            checkpoint?.Restore(this);
            var fingerprints = FingerprintWhileTraining(checkpoint is not null);
            // Records count the model's epochs across every training run: a second run of 3 after 2 yields epochs 3 to 5 of 5.
            int targetEpochs = Model.EpochsTrained - EpochsDone + Options.Epochs;
            while (!Stopped && EpochsDone < Options.Epochs)
            {
                int epoch = EpochsDone + 1;
                var clock = Stopwatch.StartNew();
                SetLearningRate(LearningRate);
                var pass = TrainEpoch(batch => progress?.Report(new TrainingProgress(epoch, Options.Epochs, batch.Index, _batches, batch.RunningLoss)), cancel);
                Model.EpochsTrained++;
                EpochsDone = epoch;
                var onTrain = Options.SkipTrainEvaluation ? (Evaluator.Evaluation?)null : Evaluator.Evaluate(Model, _trainData, workers: _workers);
                var onValidation = _validationData is null ? (Evaluator.Evaluation?)null : Evaluator.Evaluate(Model, _validationData, workers: _workers);
                double monitored = onValidation?.Loss ?? pass.MeanLoss;
                var (bestEpoch, stopReason) = ObserveForEarlyStopping(monitored, epoch);
                bool classifies = Model.Task == MlpTask.Classification;
                var record = new EpochRecord
                {
                    ModelName = Model.Name,
                    Epoch = Model.EpochsTrained,
                    Epochs = targetEpochs,
                    Loss = pass.MeanLoss,
                    TrainAccuracy = classifies ? onTrain?.Accuracy : null,
                    ValidationLoss = onValidation?.Loss,
                    ValidationAccuracy = classifies ? onValidation?.Accuracy : null,
                    Seconds = clock.Elapsed.TotalSeconds,
                    BatchSize = Options.BatchSize,
                    LearningRate = LearningRate,
                    Optimizer = Options.Optimizer.ToString(),
                    WeightDecay = Options.WeightDecay,
                    WeightPenalty = WeightPenalty(),
                    Seed = Options.Seed,
                    BestEpoch = bestEpoch,
                    StopReason = stopReason,
                    GradientNorms = pass.GradientNorms,
                    TrainRmse = onTrain?.Rmse,
                    ValidationRmse = onValidation?.Rmse,
                    ValidationMae = onValidation?.Mae,
                    ValidationR2 = onValidation?.R2,
                };
                if (Options.EarlyStopping && stopReason is not null)
                {
                    Weights.RestoreBest();
                    Stopped = epoch < Options.Epochs;
                }
                fingerprints.Wait(cancel);
                Model.History.Record(record, Options, Train, Validation);
                // The schedule moves on before the checkpoint, so that the saved session is the one the next epoch starts from.
                LearningRate = NextLearningRate(epoch, monitored);
                checkpoint?.Save(this);
                // Yielded outside every dispose scope, so nothing the caller does can leak into them.
                yield return record;
            }
        }
        finally
        {
            foreach (var layer in Model.DropoutLayers)
            {
                layer.Generator = null;
            }
        }
    }

    /// <summary>
    /// The data's fingerprints (a SHA-256 of every value) that the history and the checkpoint record, hashed on another
    /// thread while the first epoch trains rather than after it (each dataset is hashed once, then cached).
    /// </summary>
    private Task FingerprintWhileTraining(bool forCheckpoint)
    {
        var datasets = new[] { Train, Validation }.Concat(forCheckpoint ? new[] { GivenTrain, GivenValidation } : Array.Empty<MlpDataset?>())
            .OfType<MlpDataset>().Distinct().ToArray();
        return Task.Run(() =>
        {
            foreach (var dataset in datasets)
            {
                _ = DatasetFingerprint.Of(dataset);
            }
        });
    }

    /// <summary>With early stopping: the best epoch so far and, when the run ends here (patience spent, or its last epoch), why.</summary>
    private (int? BestEpoch, string? StopReason) ObserveForEarlyStopping(double monitored, int epoch)
    {
        if (!Options.EarlyStopping)
        {
            return (null, null);
        }
        if (EarlyStop.Observe(monitored, Model.EpochsTrained))
        {
            Weights.SaveBest();
        }
        string keeps = $"the model keeps the weights of epoch {EarlyStop.BestEpoch} (validation loss {EarlyStop.Best:F4}).";
        if (EarlyStop.EpochsWithoutImprovement >= Options.Patience && epoch < Options.Epochs)
        {
            return (EarlyStop.BestEpoch, $"Early stopping: the validation loss has not improved by more than {Options.MinDelta} for {Options.Patience} epochs; " + keeps);
        }
        return epoch == Options.Epochs
            ? (EarlyStop.BestEpoch, $"Early stopping reached the last epoch ({Options.Epochs}) without running out of patience; " + keeps)
            : (EarlyStop.BestEpoch, null);
    }

    private readonly record struct EpochPass(double MeanLoss, IReadOnlyList<double>? GradientNorms);

    /// <summary>One pass over the data in a fresh shuffled order.</summary>
    private EpochPass TrainEpoch(Action<(int Index, double RunningLoss)> onBatch, CancellationToken cancel)
    {
        Model.Network.train();
        using var epochScope = NewDisposeScope();
        var weights = Model.LinearLayers.Select(l => l.weight!).ToArray();
        // The explicit L2 term is the lecture's J for Adam and SGD; AdamW decays weights outside the gradient instead.
        bool l2InLoss = Options.WeightDecay > 0 && Options.Optimizer != OptimizerKind.AdamW;
        bool decoupledDecay = Options.WeightDecay > 0 && Options.Optimizer == OptimizerKind.AdamW;
        Tensor[]? gradientNormSums = Options.TrackGradient ? weights.Select(_ => zeros(1, ScalarType.Float64, Model.TorchDevice)).ToArray() : null;
        // Drawn on the CPU from the seeded generator, then moved: one seed gives the same order on every device.
        Tensor order = randperm(_trainData.Count, generator: Shuffle).to(Model.TorchDevice);
        double lossSum = 0;
        for (int batch = 0; batch < _batches; batch++)
        {
            cancel.ThrowIfCancellationRequested();
            using var batchScope = NewDisposeScope();
            long start = (long)batch * Options.BatchSize;
            Tensor rows = order.narrow(0, start, Math.Min(Options.BatchSize, _trainData.Count - start));
            float lossValue;
            // Denormals flushed while the batch computes (the shares' threads in their own work), not while the
            // caller's progress handler runs nor in evaluations.
            using (TorchRuntime.FlushDenormals())
            {
                lossValue = _workers is null ? WholeBatchGradients(rows, l2InLoss, batch) : SharedBatchGradients(rows, l2InLoss, batch);
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
                        weight.mul_(1 - LearningRate * Options.WeightDecay);
                    }
                }
                Optimizer.step();
            }
            lossSum += lossValue;
            onBatch((batch + 1, lossSum / (batch + 1)));
        }
        // The last step's weights meet no further batch, so check them directly.
        if (!Weights.ParametersUsable())
        {
            throw Diverged($"the weights became too large for float32 in epoch {Model.EpochsTrained + 1}, batch {_batches} of {_batches}");
        }
        return new EpochPass(lossSum / _batches, gradientNormSums?.Select(sum => sum.item<double>() / _batches).ToArray());
    }

    /// <summary>
    /// The batch's loss and, once it is known to be finite and the weights are saved as the last good ones, its gradients
    /// (of the loss and any L2 term) in each parameter's grad.
    /// </summary>
    private float WholeBatchGradients(Tensor rows, bool l2InLoss, int batch)
    {
        var (inputs, answers) = _trainData.Gather(rows);
        Tensor loss = Trainer.Loss(_trainData.Task, Model.Forward(inputs), answers);
        float lossValue = loss.item<float>();
        RequireFinite(lossValue, batch);
        Weights.SaveLastGood();
        // Gradients set to none rather than zeroed: backward then hands each one over instead of adding it to zeros
        // (the same values; a fill and an add per parameter less).
        Model.Network.zero_grad(set_to_none: true);
        (l2InLoss ? loss + L2Term() : loss).backward();
        return lossValue;
    }

    /// <summary>
    /// The same with the batch's rows shared among the workers: each share's loss is its mean weighted by its part of the
    /// batch, so that the shares' losses and gradients, added in share order, are the batch's (the L2 term goes with
    /// share 0). Rounding differs from the whole batch's, but not from run to run.
    /// </summary>
    private float SharedBatchGradients(Tensor rows, bool l2InLoss, int batch)
    {
        var parameters = Weights.Parameters;
        long count = rows.shape[0];
        int shares = TrainingThreads.SharesFor(count, _workers!.Count);
        var parts = _workers.Run(shares, share =>
        {
            using var denormals = TorchRuntime.FlushDenormals();
            using var scope = NewDisposeScope();
            var (start, length) = BatchWorkers.Share(count, share, shares);
            var (inputs, answers) = _trainData.Gather(rows.narrow(0, start, length));
            Tensor loss = Trainer.Loss(_trainData.Task, Model.Forward(inputs), answers).mul(length / (double)count);
            var gradients = autograd.grad(new[] { share == 0 && l2InLoss ? loss + L2Term() : loss }, parameters);
            return new ShareGradients(gradients.Select(g => g.DetachFromDisposeScope()).ToArray(), loss.item<float>());
        });
        try
        {
            float lossValue = 0;
            foreach (var part in parts)
            {
                lossValue += part.Loss;
            }
            RequireFinite(lossValue, batch);
            Weights.SaveLastGood();
            for (int p = 0; p < parameters.Length; p++)
            {
                Tensor sum = parts[0].Gradients[p];
                for (int share = 1; share < parts.Length; share++)
                {
                    sum.add_(parts[share].Gradients[p]);
                }
                parameters[p].grad = sum;
            }
            return lossValue;
        }
        finally
        {
            // The parameters keep their own references to the sums.
            foreach (var part in parts)
            {
                part.Dispose();
            }
        }
    }

    /// <summary>One share's gradients, in the order of the network's parameters, and its weighted loss.</summary>
    private sealed record ShareGradients(Tensor[] Gradients, float Loss) : IDisposable
    {
        public void Dispose()
        {
            foreach (var gradient in Gradients)
            {
                gradient.Dispose();
            }
        }
    }

    /// <summary>Stops the run, back at the last good weights, when batch <paramref name="batch"/> (from 0) gave a loss that is not finite.</summary>
    private void RequireFinite(float loss, int batch)
    {
        if (!float.IsFinite(loss))
        {
            throw Diverged($"the loss became {loss} in epoch {Model.EpochsTrained + 1}, batch {batch + 1} of {_batches}");
        }
    }

    /// <summary>The lecture's λ/2·Σ‖W‖² as a tensor in the graph.</summary>
    private Tensor L2Term() => Model.SquaredWeights() * (Options.WeightDecay / 2);

    private MlpToolsException Diverged(string what)
    {
        Weights.RestoreLastGood();
        return new MlpToolsException(ErrorIds.TrainingDiverged,
            $"Training of '{Model.Name}' diverged: {what}. Try a smaller learning rate than {LearningRate} (for example {LearningRate / 10}). " +
            "The model keeps the weights from before the step that broke it.", Model);
    }

    /// <summary>The lecture's s = λ/2·Σ‖W‖²_F over the weight matrices.</summary>
    private double WeightPenalty()
    {
        if (Options.WeightDecay == 0)
        {
            return 0;
        }
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        return Model.SquaredWeights().item<float>() * Options.WeightDecay / 2;
    }

    private static optim.Optimizer CreateOptimizer(MlpModel model, TrainingOptions options) => options.Optimizer switch
    {
        OptimizerKind.SGD => optim.SGD(model.Network.parameters(), options.LearningRate, options.Momentum),
        // AdamW's decay is applied by the loop (to weights, not biases), so the optimiser itself runs without it.
        OptimizerKind.Adam or OptimizerKind.AdamW => new Adam(model.Network.parameters(), options.LearningRate),
        _ => throw new ArgumentOutOfRangeException(nameof(options), options.Optimizer, "TrainingOptions.Validate admits no other optimiser."),
    };

    private void SetLearningRate(double learningRate)
    {
        foreach (var group in Optimizer.ParamGroups)
        {
            group.LearningRate = learningRate;
        }
    }

    private double NextLearningRate(int epoch, double monitored)
    {
        switch (Options.Schedule)
        {
            case LearningRateSchedule.Step when epoch % Options.StepSize == 0:
                return LearningRate * Options.Gamma;
            case LearningRateSchedule.ReduceOnPlateau:
                Plateau.Observe(monitored, epoch);
                if (Plateau.EpochsWithoutImprovement >= Options.SchedulePatience)
                {
                    Plateau.Reset();
                    return LearningRate * Options.Gamma;
                }
                return LearningRate;
            default:
                return LearningRate;
        }
    }

    public void Dispose()
    {
        _workers?.Dispose();
        Weights.Dispose();
        Dropout.Dispose();
        Shuffle.Dispose();
        Optimizer.Dispose();
        _validationData?.Dispose();
        _trainData.Dispose();
    }
}

/// <summary>What an <see cref="ImprovementTracker"/> has seen, as a checkpoint stores it (Best is null before the first value).</summary>
internal sealed record ImprovementState(double? Best, int BestEpoch, int EpochsWithoutImprovement);

/// <summary>Tracks the lowest value seen and how many epochs have passed without beating it by more than MinDelta.</summary>
internal sealed class ImprovementTracker(double minDelta)
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

    public ImprovementState State
    {
        get => new(double.IsPositiveInfinity(Best) ? null : Best, BestEpoch, EpochsWithoutImprovement);
        set => (Best, BestEpoch, EpochsWithoutImprovement) = (value.Best ?? double.PositiveInfinity, value.BestEpoch, value.EpochsWithoutImprovement);
    }
}

/// <summary>
/// Copies of the weights a run may need to go back to: the last ones that gave a finite loss, and the best ones early
/// stopping has seen. Preallocated once, so saving is a copy, not an allocation.
/// </summary>
internal sealed class WeightSnapshots : IDisposable
{
    private readonly Tensor[] _parameters;
    private readonly Tensor[] _lastGood;
    private Tensor[]? _best;

    /// <summary>The network's parameters, the tensors themselves, in the network's order.</summary>
    public Tensor[] Parameters => _parameters;

    public WeightSnapshots(MlpModel model)
    {
        _parameters = model.Network.parameters().Select(p => (Tensor)p).ToArray();
        _lastGood = _parameters.Select(p => p.detach().clone().DetachFromDisposeScope()).ToArray();
    }

    /// <summary>The last good weights, in the order of the network's parameters.</summary>
    public IReadOnlyList<Tensor> LastGood => _lastGood;
    /// <summary>The best weights early stopping has seen, or null before it has seen any.</summary>
    public IReadOnlyList<Tensor>? Best => _best;

    public void SaveLastGood() => Copy(_parameters, _lastGood);

    /// <summary>
    /// False when a weight is non-finite or so large that its square overflows float32: such weights give NaN logits
    /// even while each of them is still a finite number.
    /// </summary>
    public bool ParametersUsable()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        return _parameters.All(p => p.pow(2).sum().isfinite().item<bool>());
    }

    public void RestoreLastGood() => Copy(_lastGood, _parameters);

    public void SaveBest() => Copy(_parameters, BestBuffers());

    public void RestoreBest()
    {
        if (_best is not null)
        {
            Copy(_best, _parameters);
        }
    }

    /// <summary>Sets both snapshots from a checkpoint (tensors in parameter order; <paramref name="best"/> null when there were none).</summary>
    public void Load(IReadOnlyList<Tensor> lastGood, IReadOnlyList<Tensor>? best)
    {
        Copy(lastGood.ToArray(), _lastGood);
        if (best is not null)
        {
            Copy(best.ToArray(), BestBuffers());
        }
    }

    private Tensor[] BestBuffers() => _best ??= _parameters.Select(p => p.detach().clone().DetachFromDisposeScope()).ToArray();

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
