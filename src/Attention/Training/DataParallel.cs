// Data parallelism over the sentences of a batch (PyTorch's DistributedDataParallel on one machine): the batch is cut
// into a fixed number of shards; each shard runs forward and backward on its own replica of the model (the same weights,
// its own gradient accumulators), the shards run on as many cores as there are, and their gradients are added into the
// model's in shard order 0, 1, 2, … . One core follows the same shards in the same order, so the bits depend on the
// shard count but never on the thread count or on which shard finished first.
using Attention.Kernels;
using Attention.Layers;
using Attention.Randomness;
using Attention.Transformers;
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Training;

/// <summary>What one batch's forward and backward passes measured.</summary>
/// <param name="Loss">The batch's loss: the mean over its counted target tokens (what the gradient is of).</param>
/// <param name="Nll">The mean negative log-likelihood of the labels (the loss without label smoothing); e^Nll is the perplexity.</param>
/// <param name="Tokens">Counted target tokens (not the ignore index).</param>
/// <param name="Correct">Counted tokens whose highest logit is the label (teacher-forced token accuracy).</param>
public sealed record BatchResult(double Loss, double Nll, int Tokens, int Correct)
{
    /// <summary>e^Nll: how many tokens the model is, on average, as unsure between as a uniform choice.</summary>
    public double Perplexity => Math.Exp(Nll);

    /// <summary>Correct / Tokens.</summary>
    public double Accuracy => (double)Correct / Tokens;
}

/// <summary>Runs a batch's sentences on several cores, each shard on a replica of the model, and adds the shards'
/// gradients into the model's parameters in a fixed order.</summary>
/// <remarks>
/// <para>Determinism: for a given shard count and dropout seed the gradients are the same bits on 1, 2 or 64 threads.
/// With one shard the gradients are exactly <see cref="Batch.ForwardBackward"/>'s.</para>
/// <para>Each shard stacks its sentences (<see cref="Batch"/>) and draws its dropout masks from its own stream, seeded
/// from (seed, shard), so which thread runs it does not matter.</para>
/// <para>Memory: each shard holds a copy of the model's parameters and gradients.</para>
/// </remarks>
public sealed class DataParallel
{
    private readonly Transformer _model;
    private readonly IReadOnlyList<Parameter> _parameters;
    private readonly (Transformer Model, IReadOnlyList<Parameter> Parameters)[] _replicas;

    /// <summary>Creates the replicas.</summary>
    /// <param name="model">The model whose parameters receive the gradients.</param>
    /// <param name="shards">How many pieces each batch is cut into (the bits depend on it); at least 1.</param>
    public DataParallel(Transformer model, int shards = 2)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(shards);
        (_model, _parameters) = (model, model.Parameters());
        _replicas = [.. Enumerable.Range(0, shards).Select(_ => Replica(model))];
    }

    /// <summary>The number of shards.</summary>
    public int Shards => _replicas.Length;

    /// <summary>Runs every pair forward and backward in training mode and adds the batch's gradient (of the mean loss over
    /// its counted target tokens) into the model's parameters.</summary>
    /// <param name="pairs">The batch.</param>
    /// <param name="loss">Its ignore index and label smoothing are used; the reduction is the batch mean.</param>
    /// <param name="startToken">The id of <c>&lt;sos&gt;</c>.</param>
    /// <param name="dropoutSeed">Seeds each shard's dropout stream (<see cref="ShardSeed"/>).</param>
    /// <param name="tokenCount">The divisor of the mean, when this batch is one part of a larger step (gradient
    /// accumulation); null for this batch's own counted tokens.</param>
    /// <returns>The batch's loss (over its own tokens), token count and correct tokens.</returns>
    /// <exception cref="ArgumentException">A pair is empty or holds an id outside its vocabulary; nothing changes.</exception>
    public BatchResult ForwardBackward(IReadOnlyList<SentencePair> pairs, CrossEntropyLoss loss, int startToken, long dropoutSeed, int? tokenCount = null)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        ArgumentNullException.ThrowIfNull(loss);
        var tokens = Batch.Check(_model, pairs, loss, startToken);
        var divisor = tokenCount ?? tokens;
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(divisor, nameof(tokenCount));
        var results = IndependentWork.Run(Shards, s => RunShard(s, pairs, loss, startToken, dropoutSeed, divisor));   // the shards side by side
        for (var s = 0; s < Shards; s++)                                     // the fixed order of the reduction
        {
            var parameters = _replicas[s].Parameters;
            for (var i = 0; i < parameters.Count; i++)
            {
                _parameters[i].Gradient.Add(parameters[i].Gradient, _parameters[i].Gradient);
            }
        }
        return new BatchResult(results.Sum(r => r.Loss) / tokens, results.Sum(r => r.Nll) / tokens, tokens, results.Sum(r => r.Correct));
    }

    /// <summary>Shard s on its replica: the model's current weights copied in, gradients zeroed, then its sentences
    /// stacked, forward and backward, with the shard's own dropout stream.</summary>
    private (double Loss, double Nll, int Correct) RunShard(int s, IReadOnlyList<SentencePair> pairs, CrossEntropyLoss loss, int startToken, long dropoutSeed, int divisor)
    {
        var (replica, parameters) = _replicas[s];
        for (var i = 0; i < parameters.Count; i++)
        {
            _parameters[i].Value.CopyTo(parameters[i].Value);                // the model's current weights
            parameters[i].ZeroGradient();
        }
        var (first, end) = Range(s, pairs.Count);
        if (first == end)
        {
            return (0, 0, 0);                                                 // fewer pairs than shards
        }
        using var stream = Dropout.UseGenerator(new TorchGenerator(ShardSeed(dropoutSeed, s)));
        return Batch.ForwardBackwardStacked(replica, [.. pairs.Skip(first).Take(end - first)], loss, startToken, divisor);
    }

    /// <summary>The seed of shard <paramref name="index"/>'s dropout stream: a SplitMix64 mix of the batch's seed and
    /// the index, so neighbouring shards (and batches) get unrelated streams.</summary>
    /// <param name="seed">The batch's dropout seed.</param>
    /// <param name="index">The shard.</param>
    /// <returns>A seed for <see cref="TorchGenerator"/>.</returns>
    public static long ShardSeed(long seed, int index)
    {
        var z = unchecked((ulong)seed + 0x9E37_79B9_7F4A_7C15UL * (ulong)(index + 1));
        z = unchecked((z ^ (z >> 30)) * 0xBF58_476D_1CE4_E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D0_49BB_1331_11EBUL);
        return unchecked((long)(z ^ (z >> 31)));
    }

    /// <summary>Shard s's pairs: [s·n/S, (s+1)·n/S), contiguous and in order.</summary>
    private (int First, int End) Range(int shard, int count) => ((int)((long)shard * count / Shards), (int)((long)(shard + 1) * count / Shards));

    private static (Transformer, IReadOnlyList<Parameter>) Replica(Transformer model)
    {
        var replica = Transformer.FromStateDict(model.ToStateDict(), model.Options);
        replica.SetTraining(true);
        return (replica, replica.Parameters());
    }
}
