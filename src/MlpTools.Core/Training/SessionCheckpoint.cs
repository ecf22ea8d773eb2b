namespace MlpTools.Core.Training;

/// <summary>
/// Where a training session saves itself after every epoch and, when a run is resumed, is restored from. The trainer
/// knows only this; Persistence's TrainingCheckpoint keeps it in a file.
/// </summary>
public abstract class SessionCheckpoint
{
    // Only this assembly makes checkpoints: a session's parts are internal.
    private protected SessionCheckpoint()
    {
    }

    /// <summary>Puts a resumed run's state (weights, optimiser, generators, schedule) into <paramref name="session"/> before its first epoch.</summary>
    internal abstract void Restore(TrainingSession session);

    /// <summary>Keeps <paramref name="session"/> as it is after an epoch, before the epoch's record is handed on.</summary>
    internal abstract void Save(TrainingSession session);
}
