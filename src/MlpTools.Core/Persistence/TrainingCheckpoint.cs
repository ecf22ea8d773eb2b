using System.Runtime.InteropServices;
using System.Text.Json;
using MlpTools.Core.Data;
using MlpTools.Core.Modeling;
using MlpTools.Core.Platform;
using MlpTools.Core.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MlpTools.Core.Persistence;

/// <summary>
/// Checkpoints of a training run: after every epoch the trainer hands over the model, the optimiser, the shuffle and dropout
/// generator, and this writes them (with the epoch and the random-number state) atomically to one file. Resuming reads
/// that file back, so a run killed at any moment and resumed ends with the weights an uninterrupted run would have
/// (same seeds, same number of libtorch threads).
/// </summary>
public sealed class TrainingCheckpoint : SessionCheckpoint
{
    private const string ShuffleStateKey = "shuffle";
    private const string DropoutStateKey = "dropout";
    // Checkpoints of MlpTools 0.x also saved torch's global generator, which training never draws from; it is ignored.
    private const string GlobalGeneratorStateKey = "default";

    private readonly MlpFile.Contents? _resumeFrom;

    private TrainingCheckpoint(string path, MlpFile.Contents? resumeFrom)
    {
        Path = path;
        _resumeFrom = resumeFrom;
    }

    /// <summary>The checkpoint file.</summary>
    public string Path { get; }

    /// <summary>
    /// Checkpoints for a new run, written to <paramref name="path"/> (replaced after every epoch). The path must hold a
    /// checkpoint or nothing: any other file there (a model file above all) is refused rather than replaced.
    /// </summary>
    public static TrainingCheckpoint WriteTo(string path, CancellationToken cancel = default)
    {
        string fullPath = System.IO.Path.GetFullPath(path);
        string folder = System.IO.Path.GetDirectoryName(fullPath) ?? ".";
        if (!Directory.Exists(folder))
        {
            throw RegularFile.FolderNotFound(fullPath, folder);
        }
        if (RegularFile.Exists(fullPath) && WhatIsThere(fullPath, cancel) is string other)
        {
            throw new MlpToolsException(ErrorIds.CheckpointPathOccupied,
                $"'{fullPath}' holds {other}, not a checkpoint. -CheckpointPath replaces its file after every epoch, so that file would be lost. " +
                "Choose another path, or move the file away first.", fullPath);
        }
        return new(fullPath, null);
    }

    /// <summary>Null when <paramref name="fullPath"/> holds a readable checkpoint; otherwise what it holds, in a few words.</summary>
    private static string? WhatIsThere(string fullPath, CancellationToken cancel)
    {
        try
        {
            byte[] content = ModelFiles.ReadWhole(fullPath, cancel);
            if (ModelFiles.Detect(content, fullPath) != ModelFileFormat.MlpTools)
            {
                return "a PyTorch or SafeTensors state_dict";
            }
            return MlpFile.Read(new MemoryStream(content, writable: false), fullPath).Manifest.Kind == ModelManifest.CheckpointKind
                ? null
                : "an MlpTools model file";
        }
        catch (MlpToolsException e) when (e.ErrorId != ErrorIds.ModelFileReadFailed)
        {
            return "a file that is not an MlpTools checkpoint";
        }
    }

    /// <summary>
    /// Reads a checkpoint to go on from: the model as it was after the last completed epoch, the run's recipe, and the
    /// checkpoint to pass to <see cref="Trainer.Train"/>, which restores the optimiser and random-number state and goes
    /// on writing to the same file. The datasets must be the ones the run started with. The model is made on
    /// <paramref name="device"/> (checkpoints do not record one).
    /// </summary>
    public static ResumedTraining Resume(string path, MlpDataset train, MlpDataset? validation, CancellationToken cancel = default,
        ComputeDevice device = ComputeDevice.Cpu)
    {
        ComputeDevices.Require(device);
        string fullPath = System.IO.Path.GetFullPath(path);
        byte[] content = ModelFiles.ReadWhole(fullPath, cancel, () => new MlpToolsException(ErrorIds.CheckpointNotFound,
            $"There is no checkpoint at '{fullPath}' to resume from. Start the run with -CheckpointPath (without -Resume) to create one.", fullPath));
        if (ModelFiles.Detect(content, fullPath) != ModelFileFormat.MlpTools)
        {
            throw ModelFileErrors.Unrecognized(fullPath, "it is a state_dict of weights only, not an MlpTools checkpoint.");
        }
        TorchRuntime.EnsureAvailable();
        var contents = MlpFile.Read(new MemoryStream(content, writable: false), fullPath);
        var manifest = contents.Manifest;
        CheckpointState state = manifest.Training is { } training && manifest.Kind == ModelManifest.CheckpointKind
            ? training
            : throw new MlpToolsException(ErrorIds.NotACheckpoint,
                $"'{fullPath}' is a model file, not a checkpoint, so there is no run to resume. To train the model further, " +
                "read it with Import-Mlp and pass it to Invoke-MlpTraining -Model.", fullPath);
        foreach (string entry in new[] { CheckpointState.OptimizerEntry, CheckpointState.RandomStateEntry })
        {
            if (!contents.Entries.ContainsKey(entry))
            {
                throw ModelFileErrors.Corrupt(fullPath, $"the checkpoint lacks its {entry}.");
            }
        }

        TrainingOptions options = ReadOptions(state.Options, fullPath);
        try
        {
            // The same checks as the recipe given as parameters: a batch of 2^31-1 images must not "train" zero batches.
            options.Validate(asParameters: true);
        }
        catch (MlpToolsException e)
        {
            throw ModelFileErrors.Corrupt(fullPath, $"the checkpoint's recipe is one Invoke-MlpTraining refuses: {e.Message}", e);
        }
        if (state.EpochsCompleted < 0 || state.EpochsCompleted > options.Epochs || state.TrainData is null)
        {
            throw ModelFileErrors.Corrupt(fullPath, $"the checkpoint says {state.EpochsCompleted} of {options.Epochs} epochs are done, or lacks its training data's fingerprint.");
        }
        RequireSession(state, options, manifest.Architecture!.EpochsTrained, contents, fullPath);
        RequireSameData("training", state.TrainData, train, fullPath);
        RequireSameData("validation", state.ValidationData, validation, fullPath);

        var origin = new ModelOrigin(fullPath, ModelFileFormat.MlpTools, manifest.FormatVersion, manifest.Created,
            manifest.Producer?.MlpTools, manifest.Producer?.TorchSharp, MlpFile.Sha256(content));
        var model = MlpFile.ToModel(contents, fullPath, origin, device: device);
        return new ResumedTraining(model, options, state.EpochsCompleted, new TrainingCheckpoint(fullPath, contents));
    }

    /// <summary>
    /// Called by the session before its first epoch: when resuming, loads everything the run had changed (optimiser,
    /// generators, learning rate, trackers, weight snapshots, epochs done) from the file; for a new run, does nothing.
    /// </summary>
    internal override void Restore(TrainingSession session)
    {
        if (_resumeFrom is null)
        {
            return;
        }
        CheckpointState state = _resumeFrom.Manifest.Training!;
        OptimizerHelper helper = AsHelper(session.Optimizer);
        if (helper.GetType().Name != state.Optimizer)
        {
            throw ModelFileErrors.Corrupt(Path, $"the checkpoint holds the state of a {state.Optimizer} optimiser, but the run's recipe makes a {helper.GetType().Name}.");
        }
        byte[] optimizerState = _resumeFrom.Entries[CheckpointState.OptimizerEntry];
        RequireOptimizerLayout(helper, optimizerState);
        try
        {
            using (var reader = new BinaryReader(new MemoryStream(optimizerState, writable: false)))
            {
                helper.load_state_dict(reader);
            }
            using (NewDisposeScope())
            {
                using var random = new MemoryStream(_resumeFrom.Entries[CheckpointState.RandomStateEntry], writable: false);
                var states = StateDicts.ReadSafeTensors(random, Path, (layouts, _) => RequireGeneratorStates(layouts, session.Shuffle));
                session.Shuffle.set_state(states[ShuffleStateKey]);
                session.Dropout.set_state(states[DropoutStateKey]);
            }
        }
        catch (Exception e) when (e is not MlpToolsException and (IOException or ArgumentException or InvalidDataException or KeyNotFoundException or ExternalException))
        {
            throw ModelFileErrors.Corrupt(Path, $"the checkpoint's optimiser or random-number state cannot be restored ({e.Message}).", e);
        }
        if (state.Session is { } saved)
        {
            session.LearningRate = saved.LearningRate;
            session.Plateau.State = saved.Plateau ?? session.Plateau.State;
            session.EarlyStop.State = saved.EarlyStopping ?? session.EarlyStop.State;
            session.Stopped = saved.Stopped;
            RestoreSnapshots(session);
        }
        session.EpochsDone = state.EpochsCompleted;
    }

    private const string LastGoodPrefix = "lastGood.";
    private const string BestPrefix = "best.";

    private void RestoreSnapshots(TrainingSession session)
    {
        var names = session.Model.Network.named_parameters().Select(p => p.name).ToArray();
        using var scope = NewDisposeScope();
        using var buffer = new MemoryStream(_resumeFrom!.Entries[CheckpointState.SessionWeightsEntry], writable: false);
        var tensors = StateDicts.ReadSafeTensors(buffer, Path, (layouts, _) => RequireSnapshotLayout(layouts, session.Model, Path));
        foreach (var (key, tensor) in tensors)
        {
            if (!tensor.pow(2).sum().isfinite().item<bool>())
            {
                throw ModelFileErrors.NotFinite(Path, key);
            }
        }
        var best = tensors.ContainsKey(BestPrefix + names[0]) ? names.Select(n => tensors[BestPrefix + n]).ToArray() : null;
        session.Weights.Load(names.Select(n => tensors[LastGoodPrefix + n]).ToArray(), best);
    }

    /// <summary>The snapshots must be the model's parameters exactly (last good always, best all or none), in float32.</summary>
    private static void RequireSnapshotLayout(IReadOnlyList<TensorLayout> layouts, MlpModel model, string path)
    {
        var shapes = model.Architecture.ParameterShapes().ToList();
        var expected = shapes.Select(s => (LastGoodPrefix + s.Key, s.Shape));
        if (layouts.Any(l => l.Key.StartsWith(BestPrefix, StringComparison.Ordinal)))
        {
            expected = expected.Concat(shapes.Select(s => (BestPrefix + s.Key, s.Shape)));
        }
        StateDicts.RequireLayout(layouts, expected, ScalarType.Float32, path);
    }

    /// <summary>
    /// The session's state must be one a run of this recipe can reach: a finite learning rate no higher than the recipe's
    /// (schedules only lower it), trackers within the epochs done, and no early-stopping or schedule state a recipe without
    /// them would ignore. Checkpoints written before sessions were saved are of runs without early stopping or schedules.
    /// </summary>
    private static void RequireSession(CheckpointState state, TrainingOptions options, int epochsTrained, MlpFile.Contents contents, string path)
    {
        if (state.Session is not { } session)
        {
            if (options.EarlyStopping || options.Schedule != LearningRateSchedule.None)
            {
                throw ModelFileErrors.Corrupt(path, "the checkpoint's recipe uses early stopping or a learning-rate schedule but it holds no session state for them.");
            }
            return;
        }
        if (!contents.Entries.ContainsKey(CheckpointState.SessionWeightsEntry))
        {
            throw ModelFileErrors.Corrupt(path, $"the checkpoint lacks its {CheckpointState.SessionWeightsEntry}.");
        }
        if (!(double.IsFinite(session.LearningRate) && session.LearningRate > 0 && session.LearningRate <= options.LearningRate))
        {
            throw ModelFileErrors.Corrupt(path, $"the checkpoint's current learning rate {session.LearningRate} is not a positive number up to the recipe's {options.LearningRate}.");
        }
        RequireTracker("plateau", session.Plateau, options.Schedule == LearningRateSchedule.ReduceOnPlateau, state.EpochsCompleted, state.EpochsCompleted, path);
        RequireTracker("early-stopping", session.EarlyStopping, options.EarlyStopping, epochsTrained, state.EpochsCompleted, path);
        if (session.Stopped && !options.EarlyStopping)
        {
            throw ModelFileErrors.Corrupt(path, "the checkpoint says early stopping ended the run, but its recipe has no early stopping.");
        }
    }

    private static void RequireTracker(string name, ImprovementState? tracker, bool used, int lastEpoch, int epochsDone, string path)
    {
        if (tracker is null)
        {
            return;
        }
        bool valid = used && (tracker.Best is null || double.IsFinite(tracker.Best.Value)) && tracker.BestEpoch >= 0 && tracker.BestEpoch <= lastEpoch &&
            tracker.EpochsWithoutImprovement >= 0 && tracker.EpochsWithoutImprovement <= epochsDone;
        if (!valid)
        {
            throw ModelFileErrors.Corrupt(path, $"the checkpoint's {name} tracker (best {tracker.Best} at epoch {tracker.BestEpoch}, {tracker.EpochsWithoutImprovement} epochs without improvement) " +
                $"is not one this run can reach{(used ? "" : ", or its recipe does not use it")}.");
        }
    }

    /// <summary>Called by the session after each epoch, before the epoch's record is handed on: replaces the checkpoint file.</summary>
    internal override void Save(TrainingSession session)
    {
        var extra = new Dictionary<string, byte[]>();
        using (var buffer = new MemoryStream())
        {
            using (var writer = new BinaryWriter(buffer, System.Text.Encoding.UTF8, leaveOpen: true))
            {
                AsHelper(session.Optimizer).save_state_dict(writer);
            }
            extra[CheckpointState.OptimizerEntry] = buffer.ToArray();
        }
        using (NewDisposeScope())
        using (var buffer = new MemoryStream())
        {
            StateDicts.WriteSafeTensors(new Dictionary<string, Tensor>
            {
                [ShuffleStateKey] = session.Shuffle.get_state(),
                [DropoutStateKey] = session.Dropout.get_state(),
            }, buffer);
            extra[CheckpointState.RandomStateEntry] = buffer.ToArray();
        }
        using (var buffer = new MemoryStream())
        {
            var names = session.Model.Network.named_parameters().Select(p => p.name).ToArray();
            var snapshots = names.Zip(session.Weights.LastGood, (n, t) => (LastGoodPrefix + n, t));
            if (session.Weights.Best is { } best)
            {
                snapshots = snapshots.Concat(names.Zip(best, (n, t) => (BestPrefix + n, t)));
            }
            StateDicts.WriteSafeTensors(snapshots.ToDictionary(s => s.Item1, s => s.t), buffer);
            extra[CheckpointState.SessionWeightsEntry] = buffer.ToArray();
        }
        var options = session.Options;
        var state = new CheckpointState
        {
            Options = JsonSerializer.SerializeToElement(options, PersistenceJson.Options),
            EpochsCompleted = session.EpochsDone,
            // The data as given: a resumed run holds out the same part of it again, from the recipe's seed and fraction.
            TrainData = DatasetFingerprint.Of(session.GivenTrain),
            ValidationData = session.GivenValidation is null ? null : DatasetFingerprint.Of(session.GivenValidation),
            Optimizer = session.Optimizer.GetType().Name,
            Session = new SessionState
            {
                LearningRate = session.LearningRate,
                Plateau = options.Schedule == LearningRateSchedule.ReduceOnPlateau ? session.Plateau.State : null,
                EarlyStopping = options.EarlyStopping ? session.EarlyStop.State : null,
                Stopped = session.Stopped,
            },
        };
        AtomicFile.Write(Path, stream => MlpFile.Write(stream, session.Model, state, extra));
    }

    /// <summary>
    /// libtorch aborts the process when a generator is given a state of the wrong size or type, so each state read from
    /// the file must be exactly what a generator's get_state returns before it gets near one.
    /// </summary>
    private void RequireGeneratorStates(IReadOnlyList<TensorLayout> layouts, Generator generator)
    {
        using Tensor reference = generator.get_state();
        foreach (string key in new[] { ShuffleStateKey, DropoutStateKey })
        {
            TensorLayout? state = layouts.FirstOrDefault(l => l.Key == key);
            if (state is null || state.DType != reference.dtype || !state.Shape.SequenceEqual(reference.shape))
            {
                throw ModelFileErrors.Corrupt(Path, $"the checkpoint's {key} generator state is {(state is null ? "missing" : $"[{string.Join(", ", state.Shape)}] of {state.DType}")}, " +
                    $"not the [{string.Join(", ", reference.shape)}] of {reference.dtype} a generator has.");
            }
        }
        if (layouts.Any(l => l.Key is not (ShuffleStateKey or DropoutStateKey or GlobalGeneratorStateKey)))
        {
            throw ModelFileErrors.Corrupt(Path, "the checkpoint's random-number state holds generators this version does not know.");
        }
    }

    /// <summary>
    /// The optimiser's state must have the length the optimiser of this model and recipe writes, before any step (Adam's
    /// moments exist from the start) or after one (SGD adds a momentum buffer per parameter at its first step, written
    /// as TorchSharp writes a tensor: varint type, rank and sizes, then the values). TorchSharp's reader would otherwise
    /// take counts and shapes from the file and allocate as told.
    /// </summary>
    private void RequireOptimizerLayout(OptimizerHelper optimizer, byte[] saved)
    {
        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            optimizer.save_state_dict(writer);
        }
        long withBuffers = buffer.Length + optimizer.parameters().Sum(p =>
            VarintLength((long)p.dtype) + VarintLength(p.dim()) + p.shape.Sum(VarintLength) + p.NumberOfElements * p.ElementSize);
        if (saved.Length != buffer.Length && saved.Length != withBuffers)
        {
            throw ModelFileErrors.Corrupt(Path, $"the checkpoint's optimiser state has {saved.Length} bytes, but the {optimizer.GetType().Name} " +
                $"of this model writes {buffer.Length} (or {withBuffers} with its buffers).");
        }
    }

    private static long VarintLength(long value)
    {
        long length = 1;
        for (ulong rest = (ulong)value; rest >= 0x80; rest >>= 7)
        {
            length++;
        }
        return length;
    }

    private static OptimizerHelper AsHelper(optim.Optimizer optimizer) => optimizer as OptimizerHelper
        ?? throw new MlpToolsException(ErrorIds.CheckpointOptimizerUnsupported,
            $"The {optimizer.GetType().Name} optimiser cannot save its state, so this run cannot be checkpointed.", optimizer);

    private static TrainingOptions ReadOptions(JsonElement json, string path)
    {
        TrainingOptions options;
        try
        {
            options = json.Deserialize<TrainingOptions>(PersistenceJson.Options) ?? throw new JsonException("no options");
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or InvalidOperationException)
        {
            throw ModelFileErrors.Corrupt(path, $"the checkpoint's training options cannot be read ({e.Message}).", e);
        }
        // Every field of the recipe must be understood, or the resumed run would not be the run that was cut off.
        var known = JsonSerializer.SerializeToElement(options, PersistenceJson.Options).EnumerateObject().Select(p => p.Name).ToHashSet();
        var unknown = json.EnumerateObject().Select(p => p.Name).Where(n => !known.Contains(n)).ToList();
        if (unknown.Count > 0)
        {
            throw ModelFileErrors.NewerVersion(path, $"is a checkpoint of a run with the option(s) {string.Join(", ", unknown)}, which this version does not know.");
        }
        return options;
    }

    private static void RequireSameData(string role, DatasetFingerprint? recorded, MlpDataset? given, string path)
    {
        var fingerprint = given is null ? null : DatasetFingerprint.Of(given);
        bool same = recorded is null ? fingerprint is null : recorded.SameData(fingerprint);
        if (!same)
        {
            throw new MlpToolsException(ErrorIds.CheckpointDatasetMismatch,
                $"The checkpoint '{path}' was written by a run with {(recorded is null ? "no " + role + " dataset" : $"the {role} dataset {recorded}")}, " +
                $"but {(fingerprint is null ? "none" : fingerprint.ToString())} was given. Resume with the same data the run started with.", given);
        }
    }
}

/// <summary>What <see cref="TrainingCheckpoint.Resume"/> read: the model, the run's recipe, how far it got, and the checkpoint to go on with.</summary>
public sealed record ResumedTraining(MlpModel Model, TrainingOptions Options, int EpochsCompleted, TrainingCheckpoint Checkpoint);
