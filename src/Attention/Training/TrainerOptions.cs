// The knobs of a training run, each with the default a small translation model trains well with.
namespace Attention.Training;

/// <summary>How a <see cref="Trainer"/> runs: epochs, batches, the loss, clipping, seeds, checkpoints and early stopping.</summary>
public sealed record TrainerOptions
{
    /// <summary>Passes over the training pairs.</summary>
    public int Epochs { get; init; } = 10;

    /// <summary>Sentence pairs per batch (the last batch of an epoch may be smaller).</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Batches whose gradients add up before one optimizer update (gradient accumulation): one update then sees
    /// AccumulationSteps·BatchSize pairs, its loss the mean over all their tokens, exactly as one batch that large.</summary>
    public int AccumulationSteps { get; init; } = 1;

    /// <summary>The id of <c>&lt;sos&gt;</c>, the decoder's first input.</summary>
    public int StartToken { get; init; }

    /// <summary>Target ids that do not count (PyTorch's <c>ignore_index</c>).</summary>
    public int IgnoreIndex { get; init; } = -100;

    /// <summary>ε_ls, the paper's label smoothing (§5.4: 0.1).</summary>
    public float LabelSmoothing { get; init; } = 0.1f;

    /// <summary>The largest global gradient norm (<see cref="GradientClipping"/>), or null for no clipping.</summary>
    public float? ClipNorm { get; init; } = 1.0f;

    /// <summary>Seeds the shuffling of every epoch and every sentence's dropout; the same seed gives the same bits.</summary>
    public long Seed { get; init; }

    /// <summary>Shards of each batch (<see cref="DataParallel"/>): the bits depend on it, not on the thread count.</summary>
    public int Shards { get; init; } = 2;

    /// <summary>Where checkpoints go (null: none). One is written every <see cref="CheckpointEvery"/> updates, after
    /// every epoch, on cancellation and at the end.</summary>
    public string? CheckpointDirectory { get; init; }

    /// <summary>Updates between checkpoints (0: only after epochs, on cancellation and at the end).</summary>
    public int CheckpointEvery { get; init; }

    /// <summary>Stop when the validation loss has not improved for this many epochs (null: never stop early).</summary>
    public int? Patience { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first option out of range.</summary>
    public void Validate()
    {
        foreach (var (name, value) in new[] { (nameof(Epochs), Epochs), (nameof(BatchSize), BatchSize), (nameof(AccumulationSteps), AccumulationSteps), (nameof(Shards), Shards) })
        {
            if (value <= 0)
            {
                throw new ArgumentException($"{name} must be positive, but is {value}.", name);
            }
        }
        if (CheckpointEvery < 0 || Patience is < 1)
        {
            throw new ArgumentException($"CheckpointEvery must be ≥ 0 (is {CheckpointEvery}) and Patience ≥ 1 (is {Patience}).", nameof(CheckpointEvery));
        }
        if (!(LabelSmoothing >= 0 && LabelSmoothing <= 1) || ClipNorm is { } clip && !(clip > 0))
        {
            throw new ArgumentException($"LabelSmoothing must be in [0, 1] (is {LabelSmoothing}) and ClipNorm positive (is {ClipNorm}).", nameof(LabelSmoothing));
        }
    }
}
