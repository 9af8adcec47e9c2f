// What a trainer reports after every update and every evaluation, for a progress bar or a log.
namespace Attention.Training;

/// <summary>One report from <see cref="Trainer.Fit"/>: after an update (<see cref="Validation"/> null) or after an
/// epoch's evaluation.</summary>
/// <param name="Epoch">The epoch, from 1.</param>
/// <param name="Epochs">All epochs of the run.</param>
/// <param name="Step">Updates done so far (over the whole run, resumed runs included).</param>
/// <param name="TotalSteps">Updates the whole run makes if it does not stop early.</param>
/// <param name="Training">The last update's batch: loss, perplexity, token accuracy.</param>
/// <param name="Validation">The held-out split's result, after an epoch; null otherwise.</param>
/// <param name="LearningRate">The last update's learning rate.</param>
/// <param name="TokensPerSecond">Counted target tokens trained on per second of this call (forward, backward, update).</param>
/// <param name="Remaining">The estimated time to the last update, from this call's pace.</param>
public sealed record TrainingProgress(int Epoch, int Epochs, int Step, int TotalSteps, BatchResult Training, BatchResult? Validation,
    float LearningRate, double TokensPerSecond, TimeSpan Remaining);

/// <summary>How a call to <see cref="Trainer.Fit"/> ended.</summary>
/// <param name="Steps">Updates done (over the whole run).</param>
/// <param name="Cancelled">The cancellation token stopped it (a checkpoint was written first, when there is a directory).</param>
/// <param name="StoppedEarly">The validation loss stopped improving for <see cref="TrainerOptions.Patience"/> epochs.</param>
/// <param name="LastValidation">The last evaluation of the held-out split, or null.</param>
public sealed record TrainingSummary(int Steps, bool Cancelled, bool StoppedEarly, BatchResult? LastValidation);
