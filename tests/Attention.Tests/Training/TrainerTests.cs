using Attention.Kernels;
using Attention.Randomness;
using Attention.Training;
using Attention.Transformers;
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Tests.Training;

/// <summary>The trainer and its data parallelism: the same bits on any thread count, stopping and resuming changes
/// nothing, divergence and bad checkpoints leave everything as it was.</summary>
public sealed class TrainerTests : IDisposable
{
    private static readonly TransformerOptions Options = TransformerOptions.Small(10, 10) with
    {
        ModelDim = 8, HeadCount = 2, FeedForwardDim = 16, EncoderLayers = 1, DecoderLayers = 1, MaxPositions = 12, Dropout = 0.1f,
    };

    private readonly string _folder = Directory.CreateTempSubdirectory("attention-trainer-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>Copy pairs of 2–6 tokens from 2 … 9, ending with 1 as &lt;eos&gt;; 0 is &lt;sos&gt;.</summary>
    private static SentencePair[] Pairs(int count, int seed)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, count).Select(_ =>
        {
            var tokens = Enumerable.Range(0, random.Next(2, 7)).Select(_ => random.Next(2, 10)).ToArray();
            return new SentencePair(tokens, [.. tokens, 1]);
        })];
    }

    private static Trainer NewTrainer(TransformerOptions options, long modelSeed, TrainerOptions trainerOptions)
    {
        var model = new Transformer(options, new TorchGenerator(modelSeed));
        var optimizer = new Adam(ParameterGroup.DecayMatricesOnly(model.Parameters(), 0.01f), 0, 0.9f, 0.98f, 1e-9f);
        return new Trainer(model, optimizer, LearningRateSchedule.Warmup(options.ModelDim, 4, factor: 2), trainerOptions);
    }

    private static float[][] Values(Transformer model) => [.. model.Parameters().Select(p => p.Value.ToColumnMajorArray())];

    [Fact]
    public void One_shard_gives_exactly_the_batch_gradient()
    {
        var options = Options with { Dropout = 0 };
        var (parallel, plain) = (new Transformer(options, new TorchGenerator(1)), new Transformer(options, new TorchGenerator(1)));
        var loss = new CrossEntropyLoss(labelSmoothing: 0.1f);
        var pairs = Pairs(5, 2);
        var result = new DataParallel(parallel, shards: 1).ForwardBackward(pairs, loss, startToken: 0, dropoutSeed: 3);
        var batchLoss = Batch.ForwardBackward(plain, pairs, loss, startToken: 0);
        ((float)result.Loss).Should().Be(batchLoss);
        parallel.Parameters().Select(p => p.Gradient.ToColumnMajorArray()).Should().BeEquivalentTo(
            plain.Parameters().Select(p => p.Gradient.ToColumnMajorArray()), o => o.WithStrictOrdering(), "the same sums in the same order");
    }

    [Fact]
    public void Shards_give_the_same_bits_on_one_two_and_five_threads_with_dropout()
    {
        float[][] Gradients(int threads)
        {
            using var scope = Parallelism.Use(threads);
            var model = new Transformer(Options, new TorchGenerator(4));
            new DataParallel(model, shards: 3).ForwardBackward(Pairs(7, 5), new CrossEntropyLoss(labelSmoothing: 0.1f), 0, dropoutSeed: 6);
            return [.. model.Parameters().Select(p => p.Gradient.ToColumnMajorArray())];
        }
        var one = Gradients(1);
        one.SelectMany(g => g).Should().Contain(g => g != 0f);
        Gradients(2).Should().BeEquivalentTo(one, o => o.WithStrictOrdering());
        Gradients(5).Should().BeEquivalentTo(one, o => o.WithStrictOrdering());
    }

    [Fact]
    public void Stopping_and_resuming_from_a_checkpoint_gives_the_same_bits_as_running_straight_through()
    {
        var trainerOptions = new TrainerOptions { Epochs = 2, BatchSize = 4, Seed = 7, Shards = 2, LabelSmoothing = 0.1f };
        var (train, validation) = (Pairs(18, 8), Pairs(4, 9));          // 5 batches per epoch, the last of 2 pairs
        var straight = NewTrainer(Options, 10, trainerOptions);
        straight.Fit(train, validation).Steps.Should().Be(10);

        using var cancel = new CancellationTokenSource();
        var first = NewTrainer(Options, 10, trainerOptions with { CheckpointDirectory = Path.Combine(_folder, "run") });
        var stopped = first.Fit(train, validation, new Synchronous(p => { if (p.Step == 7) cancel.Cancel(); }), cancel.Token);
        stopped.Cancelled.Should().BeTrue();
        stopped.Steps.Should().Be(7, "update 7 is the second of epoch 2: mid-epoch");

        var resumed = NewTrainer(Options, 99, trainerOptions);        // other initial weights: the checkpoint replaces them
        resumed.LoadCheckpoint(Path.Combine(_folder, "run"));
        resumed.State.Step.Should().Be(7);
        resumed.Fit(train, validation).Steps.Should().Be(10);

        Values(resumed.Model).Should().BeEquivalentTo(Values(straight.Model), o => o.WithStrictOrdering(), "every parameter, bit for bit");
        resumed.State.TrainingLosses.Should().Equal(straight.State.TrainingLosses);
        resumed.State.ValidationLosses.Should().Equal(straight.State.ValidationLosses);
        resumed.Optimizer.StateDict()["state.0.exp_avg_sq"].Should().Be(straight.Optimizer.StateDict()["state.0.exp_avg_sq"]);
    }

    [Fact]
    public void Gradient_accumulation_over_two_batches_of_four_is_one_batch_of_eight()
    {
        var options = Options with { Dropout = 0 };
        var train = Pairs(16, 11);
        // SGD, not Adam: Adam turns a rounding-noise gradient (the key bias's is exactly 0 in theory) into a step of up to lr.
        Trainer Make(int batchSize, int accumulation)
        {
            var model = new Transformer(options, new TorchGenerator(12));
            return new Trainer(model, new Sgd(model.Parameters(), 0, momentum: 0.9f), LearningRateSchedule.Constant(0.5f),
                new TrainerOptions { Epochs = 1, BatchSize = batchSize, AccumulationSteps = accumulation, Seed = 1 });
        }
        var (accumulated, whole) = (Make(4, 2), Make(8, 1));
        accumulated.Fit(train).Steps.Should().Be(2);
        whole.Fit(train).Steps.Should().Be(2);
        // The same pairs in each update and the same mean; only the order of float additions differs (shards of 4 vs 8).
        accumulated.State.TrainingLosses.Select(l => l.Loss).Should().Equal(whole.State.TrainingLosses.Select(l => l.Loss), (a, b) => Math.Abs(a - b) < 1e-5 * b);
        foreach (var (a, b) in accumulated.Model.Parameters().Zip(whole.Model.Parameters()))
        {
            Support.Expect.Close(a.Value, b.Value, what: "parameters after two updates");
        }
    }

    [Fact]
    public void A_NaN_loss_stops_with_the_update_named_and_the_checkpoint_untouched()
    {
        var folder = Path.Combine(_folder, "nan");
        var trainer = NewTrainer(Options, 13, new TrainerOptions { Epochs = 3, BatchSize = 4, CheckpointDirectory = folder });
        byte[]? saved = null;
        float[][]? before = null;
        var fit = () => trainer.Fit(Pairs(8, 14), progress: new Synchronous(p =>
        {
            if (p.Step == 3 && p.Validation is null)                          // epoch 1 (updates 1, 2) is checkpointed
            {
                trainer.Model.LmHead.Weight[0, 0] = float.NaN;                // poison a weight: update 4's loss is NaN
                saved = File.ReadAllBytes(Path.Combine(folder, Checkpoint.ModelFile));
                before = Values(trainer.Model);
            }
        }));
        fit.Should().Throw<TrainingDivergedException>().Where(e => e.Step == 4).WithMessage("Update 4 (epoch 2, batch 2) has loss NaN*not applied*");
        File.ReadAllBytes(Path.Combine(folder, Checkpoint.ModelFile)).Should().Equal(saved, "the last good checkpoint is untouched");
        Values(trainer.Model).Should().BeEquivalentTo(before, o => o.WithStrictOrdering(), "the diverged update was not applied");
        Directory.GetDirectories(_folder).Should().Equal([folder], "no half-written checkpoint folder is left");
    }

    [Fact]
    public void A_checkpoint_of_another_shape_is_refused_and_nothing_changes()
    {
        var folder = Path.Combine(_folder, "small");
        NewTrainer(Options, 15, new TrainerOptions { Epochs = 1, BatchSize = 4 }).SaveCheckpoint(folder);
        var wider = NewTrainer(Options with { FeedForwardDim = 20 }, 16, new TrainerOptions { Epochs = 1, BatchSize = 4 });
        var (values, optimizer) = (Values(wider.Model), wider.Optimizer.StateDict());
        var load = () => wider.LoadCheckpoint(folder);
        load.Should().Throw<InvalidDataException>().WithMessage("*model.safetensors holds a model of other options*FeedForwardDim: 16 → 20*");
        Values(wider.Model).Should().BeEquivalentTo(values, o => o.WithStrictOrdering());
        wider.Optimizer.StateDict().Keys.Should().BeEquivalentTo(optimizer.Keys);
        wider.State.Step.Should().Be(0);

        var otherSeed = NewTrainer(Options, 15, new TrainerOptions { Epochs = 1, BatchSize = 4, Seed = 5 });
        otherSeed.Invoking(t => t.LoadCheckpoint(folder)).Should().Throw<InvalidDataException>().WithMessage("*seed 0*seed is 5*");
        otherSeed.Invoking(t => t.LoadCheckpoint(Path.Combine(_folder, "nowhere"))).Should().Throw<InvalidDataException>().WithMessage("*missing*");
    }

    [Fact]
    public void Early_stopping_ends_the_run_when_the_validation_loss_stops_improving()
    {
        // A learning rate of 0 never changes the model: the validation loss of epoch 2 equals epoch 1's, not lower.
        var model = new Transformer(Options, new TorchGenerator(17));
        var trainer = new Trainer(model, new Sgd(model.Parameters(), 0), LearningRateSchedule.Constant(0), new TrainerOptions { Epochs = 5, BatchSize = 4, Patience = 1 });
        var reports = new List<TrainingProgress>();
        var summary = trainer.Fit(Pairs(8, 18), Pairs(3, 19), new Synchronous(reports.Add));
        summary.StoppedEarly.Should().BeTrue();
        summary.Steps.Should().Be(4, "two epochs of two updates");
        reports.Should().HaveCount(4 + 2, "one report per update and one per evaluation");
        reports.Where(r => r.Validation is null).Should().OnlyContain(r => r.TokensPerSecond > 0 && r.Training.Tokens > 0 && r.TotalSteps == 10);
        reports[^1].Validation!.Loss.Should().Be(reports[1 + 1].Validation!.Loss);
        reports[^1].Validation!.Perplexity.Should().BeApproximately(Math.Exp(reports[^1].Validation!.Nll), 1e-9);
    }

    [Fact]
    public void Bad_pairs_are_refused_before_the_first_update()
    {
        var trainer = NewTrainer(Options, 20, new TrainerOptions { Epochs = 1, BatchSize = 2 });
        var values = Values(trainer.Model);
        var emptyTarget = () => trainer.Fit([.. Pairs(3, 21), new SentencePair([2, 3], [])]);
        emptyTarget.Should().Throw<ArgumentException>().WithMessage("Pair 3 has an empty*");
        var outside = () => trainer.Fit(Pairs(3, 21), [new SentencePair([2, 3], [12])]);
        outside.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*target id 12 is outside the target vocabulary of 10*");
        Values(trainer.Model).Should().BeEquivalentTo(values, o => o.WithStrictOrdering());
        trainer.State.Step.Should().Be(0);
    }
}

/// <summary>An <see cref="IProgress{T}"/> that calls back on the reporting thread (Progress&lt;T&gt; posts to the pool).</summary>
internal sealed class Synchronous(Action<TrainingProgress> report) : IProgress<TrainingProgress>
{
    public void Report(TrainingProgress value) => report(value);
}
