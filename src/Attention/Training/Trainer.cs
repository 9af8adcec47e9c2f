// The training loop of §5: shuffle the pairs, cut them into batches, and for every batch run the model forward and
// backward (DataParallel), check the loss is finite, clip the gradient, set the learning rate from the schedule and let
// the optimizer update the parameters. After every epoch the held-out split is scored; checkpoints keep everything a
// resumed run needs to continue with the same bits.
using System.Diagnostics;
using Attention.Randomness;
using Attention.Transformers;

namespace Attention.Training;

/// <summary>Trains a <see cref="Transformer"/> on sentence pairs: epochs, shuffling, evaluation, progress, cancellation,
/// early stopping, gradient accumulation and checkpoints that resume bit for bit.</summary>
/// <remarks>Determinism: a run is a function of the seed, the data, the options (the shard count among them) and the SIMD
/// width; the thread count and stopping and resuming from a checkpoint do not change a bit (docs/determinism.md).</remarks>
public sealed class Trainer
{
    private readonly DataParallel _parallel;
    private readonly CrossEntropyLoss _loss;

    /// <summary>Creates a trainer.</summary>
    /// <param name="model">The model; its parameters are updated in place.</param>
    /// <param name="optimizer">An optimizer over <c>model.Parameters()</c>.</param>
    /// <param name="schedule">The learning rate of update n (from 1), e.g. <see cref="LearningRateSchedule.Warmup"/>.</param>
    /// <param name="options">How to train.</param>
    public Trainer(Transformer model, Optimizer optimizer, Func<int, float> schedule, TrainerOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(schedule);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (options.StartToken < 0 || options.StartToken >= model.Options.TargetVocabularySize)
        {
            throw new ArgumentException($"StartToken {options.StartToken} is not an id of the target vocabulary of {model.Options.TargetVocabularySize}.", nameof(options));
        }
        (Model, Optimizer, Schedule, Options) = (model, optimizer, schedule, options);
        _parallel = new DataParallel(model, options.Shards);
        _loss = new CrossEntropyLoss(options.IgnoreIndex, options.LabelSmoothing);
        State = new TrainerState { Seed = options.Seed };
    }

    /// <summary>The model.</summary>
    public Transformer Model { get; }

    /// <summary>The optimizer.</summary>
    public Optimizer Optimizer { get; }

    /// <summary>n ↦ lr.</summary>
    public Func<int, float> Schedule { get; }

    /// <summary>The options.</summary>
    public TrainerOptions Options { get; }

    /// <summary>Where the run is: epoch, batch, update, losses so far.</summary>
    public TrainerState State { get; private set; }

    /// <summary>Trains from where <see cref="State"/> is (the start, or a loaded checkpoint) to the last epoch.</summary>
    /// <param name="train">The training pairs (their order is the seed's shuffle, epoch by epoch).</param>
    /// <param name="validation">Held-out pairs scored after every epoch, or null.</param>
    /// <param name="progress">Receives a report after every update and every evaluation.</param>
    /// <param name="cancellation">Stops the run between updates; a checkpoint is written first (when there is a directory).</param>
    /// <returns>How the run ended.</returns>
    /// <exception cref="ArgumentException">A pair is empty or holds an id outside its vocabulary (checked before training).</exception>
    /// <exception cref="TrainingDivergedException">An update's loss or gradient norm was not finite; that update was not
    /// applied and no checkpoint was written after the last good one.</exception>
    public TrainingSummary Fit(IReadOnlyList<SentencePair> train, IReadOnlyList<SentencePair>? validation = null,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(train);
        Batch.Check(Model, train, _loss, Options.StartToken);                  // every pair, before any update
        if (validation is { Count: > 0 })
        {
            Batch.Check(Model, validation, _loss, Options.StartToken);
        }
        var batches = (train.Count + Options.BatchSize - 1) / Options.BatchSize;
        var totalSteps = Options.Epochs * ((batches + Options.AccumulationSteps - 1) / Options.AccumulationSteps);
        var (clock, tokens, firstStep) = (Stopwatch.StartNew(), 0L, State.Step);
        BatchResult? lastValidation = null;
        while (State.Epoch < Options.Epochs)
        {
            var order = Shuffle(train.Count, State.Epoch);
            while (State.Batch < batches)
            {
                if (cancellation.IsCancellationRequested)
                {
                    SaveCheckpointIfAsked();
                    return new TrainingSummary(State.Step, Cancelled: true, StoppedEarly: false, lastValidation);
                }
                var result = Update(train, order, batches);
                tokens += result.Tokens;
                var perSecond = tokens / Math.Max(clock.Elapsed.TotalSeconds, 1e-9);
                var remaining = TimeSpan.FromSeconds(clock.Elapsed.TotalSeconds / (State.Step - firstStep) * (totalSteps - State.Step));
                progress?.Report(new TrainingProgress(State.Epoch + 1, Options.Epochs, State.Step, totalSteps, result, null, Optimizer.LearningRate, perSecond, remaining));
                if (Options.CheckpointEvery > 0 && State.Step % Options.CheckpointEvery == 0)
                {
                    SaveCheckpointIfAsked();
                }
            }
            (State.Epoch, State.Batch) = (State.Epoch + 1, 0);
            var stop = false;
            if (validation is { Count: > 0 })
            {
                lastValidation = Evaluate(validation);
                State.ValidationLosses.Add(new LossPoint(State.Step, lastValidation.Loss));
                var improved = State.BestValidationLoss is not { } best || lastValidation.Loss < best;
                (State.BestValidationLoss, State.EpochsWithoutImprovement) = improved ? (lastValidation.Loss, 0) : (State.BestValidationLoss, State.EpochsWithoutImprovement + 1);
                stop = Options.Patience is { } patience && State.EpochsWithoutImprovement >= patience;
                progress?.Report(new TrainingProgress(State.Epoch, Options.Epochs, State.Step, totalSteps, lastValidation, lastValidation, Optimizer.LearningRate, 0, TimeSpan.Zero));
            }
            SaveCheckpointIfAsked();
            if (stop)
            {
                return new TrainingSummary(State.Step, Cancelled: false, StoppedEarly: true, lastValidation);
            }
        }
        return new TrainingSummary(State.Step, Cancelled: false, StoppedEarly: false, lastValidation);
    }

    /// <summary>Scores pairs with teacher forcing in evaluation mode (no dropout): the mean loss (with the run's label
    /// smoothing), the negative log-likelihood and token accuracy over their counted target tokens. Puts the model in
    /// evaluation mode.</summary>
    /// <param name="pairs">The pairs.</param>
    /// <returns>The mean loss, NLL, token count and correct tokens.</returns>
    public BatchResult Evaluate(IReadOnlyList<SentencePair> pairs)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        var tokens = Batch.Check(Model, pairs, _loss, Options.StartToken);
        Model.SetTraining(false);
        var summed = new CrossEntropyLoss(_loss.IgnoreIndex, _loss.LabelSmoothing, LossReduction.Sum);
        var scores = Kernels.IndependentWork.Run(pairs.Count, i =>                                   // the sentences side by side
            Batch.Score(Model.Forward(pairs[i].Source, [Options.StartToken, .. pairs[i].Target.Take(pairs[i].Target.Count - 1)]), pairs[i].Target, summed));
        return new BatchResult(scores.Sum(s => s.Loss) / tokens, scores.Sum(s => s.Nll) / tokens, tokens, scores.Sum(s => s.Correct));
    }

    /// <summary>Writes a checkpoint of the model, the optimizer and <see cref="State"/> (see <see cref="Checkpoint"/>).</summary>
    /// <param name="directory">The checkpoint's folder; replaced as a whole.</param>
    public void SaveCheckpoint(string directory) => Checkpoint.Save(directory, Model, Optimizer, State);

    /// <summary>Restores a checkpoint into the model, the optimizer and <see cref="State"/>; <see cref="Fit"/> then
    /// continues where it stopped. All or nothing: on a mismatch nothing changes.</summary>
    /// <param name="directory">The checkpoint's folder.</param>
    /// <exception cref="InvalidDataException">A file is missing or corrupt, or holds another model's shapes or another
    /// seed; the message names the file.</exception>
    public void LoadCheckpoint(string directory)
    {
        var state = Checkpoint.Load(directory, Model, Optimizer, expectedSeed: Options.Seed);
        State = state;
    }

    /// <summary>One update: up to <see cref="TrainerOptions.AccumulationSteps"/> batches forward and backward, the mean
    /// over all their tokens, the finite check, clipping, the schedule's rate, the optimizer's step.</summary>
    private BatchResult Update(IReadOnlyList<SentencePair> train, int[] order, int batches)
    {
        var step = State.Step + 1;
        var parts = Enumerable.Range(State.Batch, Math.Min(Options.AccumulationSteps, batches - State.Batch))
            .Select(b => order.Skip(b * Options.BatchSize).Take(Options.BatchSize).Select(i => train[i]).ToArray()).ToArray();
        var tokens = parts.Sum(part => Batch.Check(Model, part, _loss, Options.StartToken));
        Optimizer.ZeroGradients();
        var results = parts.Select((part, j) => _parallel.ForwardBackward(part, _loss, Options.StartToken, Derive(Options.Seed, step, j), tokens)).ToArray();
        var result = new BatchResult(results.Sum(r => r.Loss * r.Tokens) / tokens, results.Sum(r => r.Nll * r.Tokens) / tokens, tokens, results.Sum(r => r.Correct));
        var norm = Options.ClipNorm is { } clip ? GradientClipping.ClipByGlobalNorm(Optimizer.Parameters, clip) : GradientClipping.GlobalNorm(Optimizer.Parameters);
        if (!double.IsFinite(result.Loss) || !float.IsFinite(norm))
        {
            throw new TrainingDivergedException(step, $"Update {step} (epoch {State.Epoch + 1}, batch {State.Batch + 1}) has loss {result.Loss} and gradient norm {norm}: "
                + "training diverged. The update was not applied; the parameters and the last checkpoint keep their last good values. Try a lower learning rate or clipping.");
        }
        Optimizer.LearningRate = Schedule(step);
        Optimizer.Step();
        State.Step = step;
        State.Batch += parts.Length;
        State.TrainingLosses.Add(new LossPoint(step, result.Loss));
        return result;
    }

    /// <summary>The order in which epoch <paramref name="epoch"/> visits <paramref name="count"/> training pairs (its
    /// batches are consecutive runs of this order): Fisher–Yates from a generator seeded from (seed, epoch), so a resumed
    /// run shuffles as the straight one did, and another program can replay the same batches. Draws are 64-bit modulo
    /// i + 1 (a bias below 2⁻³² for any real corpus).</summary>
    /// <param name="count">How many training pairs.</param>
    /// <param name="epoch">The epoch, from 0.</param>
    /// <returns>A permutation of 0 … count − 1.</returns>
    public int[] EpochOrder(int count, int epoch)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        return Shuffle(count, epoch);
    }

    private int[] Shuffle(int count, int epoch)
    {
        var generator = new TorchGenerator(Derive(Options.Seed, -1, epoch));
        var order = Enumerable.Range(0, count).ToArray();
        for (var i = count - 1; i > 0; i--)
        {
            var j = (int)(generator.NextUInt64() % (ulong)(i + 1));
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }

    private static long Derive(long seed, int a, int b) => DataParallel.ShardSeed(DataParallel.ShardSeed(seed, a), b);

    private void SaveCheckpointIfAsked()
    {
        if (Options.CheckpointDirectory is { } directory)
        {
            SaveCheckpoint(directory);
        }
    }
}
