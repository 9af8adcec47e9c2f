// Where a run is, beyond the weights and the optimizer's buffers: enough to resume mid-epoch and get the same bits.
namespace Attention.Training;

/// <summary>A trainer's position and history, saved in a checkpoint's <c>trainer.json</c>.</summary>
public sealed record TrainerState
{
    /// <summary>The format of <c>trainer.json</c>.</summary>
    public int Version { get; init; } = 1;

    /// <summary>The epoch in progress, from 0.</summary>
    public int Epoch { get; set; }

    /// <summary>The next batch of that epoch, from 0 (always a multiple of the accumulation steps).</summary>
    public int Batch { get; set; }

    /// <summary>Updates done.</summary>
    public int Step { get; set; }

    /// <summary>The seed the run started with (shuffling and dropout derive from it).</summary>
    public long Seed { get; init; }

    /// <summary>The best validation loss so far (null before the first evaluation).</summary>
    public double? BestValidationLoss { get; set; }

    /// <summary>Epochs since the validation loss last improved.</summary>
    public int EpochsWithoutImprovement { get; set; }

    /// <summary>The loss of every update: (update, loss).</summary>
    public List<LossPoint> TrainingLosses { get; init; } = [];

    /// <summary>The validation loss after every epoch: (update, loss).</summary>
    public List<LossPoint> ValidationLosses { get; init; } = [];
}

/// <summary>A loss at an update.</summary>
/// <param name="Step">The update, from 1.</param>
/// <param name="Loss">The loss.</param>
public sealed record LossPoint(int Step, double Loss);
