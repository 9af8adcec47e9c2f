// A batch is a list of sentence pairs of different lengths. No padding is needed: the sentences are stacked, every token
// one row of one matrix, so the position-wise layers run once on the whole batch (bigger, faster products), and attention
// is masked so that each sentence sees only itself (AttentionMask.Sentences). The batch's loss is the mean over every
// real target token of the batch, exactly as PyTorch averages a padded batch whose padding labels are ignore_index:
//   L = Σ_pairs Σ_tokens loss_t / (number of real target tokens in the batch)
using Attention.Transformers;

namespace Attention.Training;

/// <summary>One training example: the source ids and the target ids (ending with <c>&lt;eos&gt;</c> if the vocabulary has one).</summary>
/// <param name="Source">Source token ids, at least one.</param>
/// <param name="Target">Target token ids, at least one: the decoder reads <c>&lt;sos&gt;</c> + Target[..^1] and must predict Target.</param>
public sealed record SentencePair(IReadOnlyList<int> Source, IReadOnlyList<int> Target);

/// <summary>A batch's forward and backward passes, summed sentence by sentence.</summary>
public static class Batch
{
    /// <summary>Runs every pair forward and backward, adding the batch's gradient into the model's parameters, and
    /// returns the batch's loss (the mean over its real target tokens).</summary>
    /// <param name="model">The model; its parameters' gradients grow by the batch's gradient.</param>
    /// <param name="pairs">The batch.</param>
    /// <param name="loss">The loss (its ignore index and label smoothing are used; the reduction is the batch mean).</param>
    /// <param name="startToken">The id of <c>&lt;sos&gt;</c>, the decoder's first input.</param>
    /// <returns>The batch's loss.</returns>
    /// <exception cref="ArgumentException">A pair has an empty sentence or an id outside its vocabulary, or no target token
    /// counts; checked for every pair before any gradient changes.</exception>
    public static float ForwardBackward(Transformer model, IReadOnlyList<SentencePair> pairs, CrossEntropyLoss loss, int startToken)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(pairs);
        ArgumentNullException.ThrowIfNull(loss);
        var tokens = Check(model, pairs, loss, startToken);
        return (float)(ForwardBackwardStacked(model, pairs, loss, startToken, tokens).Loss / tokens);
    }

    /// <summary>The pairs stacked, forward and backward: adds the gradient of (their summed token losses / <paramref name="tokens"/>)
    /// and returns their summed loss, their summed negative log-likelihood (the loss without label smoothing) and how many
    /// of their counted tokens the logits get right.</summary>
    internal static (double Loss, double Nll, int Correct) ForwardBackwardStacked(Transformer model, IReadOnlyList<SentencePair> pairs, CrossEntropyLoss loss, int startToken, int tokens)
    {
        var summed = new CrossEntropyLoss(loss.IgnoreIndex, loss.LabelSmoothing, LossReduction.Sum);
        var inputs = pairs.Select(p => (IReadOnlyList<int>)[startToken, .. p.Target.Take(p.Target.Count - 1)]).ToArray();  // shifted right
        var record = model.ForwardRecorded([.. pairs.Select(p => p.Source)], inputs);
        var labels = pairs.SelectMany(p => p.Target).ToArray();                                   // the logits' rows, sentence after sentence
        model.Backward(record, summed.Backward(record.Logits, labels) / tokens);                  // ∂L/∂logits of the batch mean
        return Score(record.Logits, labels, summed);
    }

    /// <summary>The summed loss, summed negative log-likelihood and correct tokens of some logits.</summary>
    internal static (double Loss, double Nll, int Correct) Score(MathNet.Numerics.LinearAlgebra.Matrix<float> logits, IReadOnlyList<int> targets, CrossEntropyLoss summed)
    {
        var output = summed.Forward(logits, targets);
        var predicted = Kernels.RowReductions.ArgMax(logits);                                    // the most likely token of each row
        var correct = targets.Where((t, i) => t != summed.IgnoreIndex && predicted[i] == t).Count();
        return (output.Loss, output.NegativeLogLikelihood, correct);
    }

    /// <summary>The number of target tokens that count, after checking every pair.</summary>
    internal static int Check(Transformer model, IReadOnlyList<SentencePair> pairs, CrossEntropyLoss loss, int startToken)
    {
        var (sourceVocabulary, targetVocabulary) = (model.Options.SourceVocabularySize, model.Options.TargetVocabularySize);
        if (startToken < 0 || startToken >= targetVocabulary)
        {
            throw new ArgumentOutOfRangeException(nameof(startToken), startToken, $"The start token is not an id of the target vocabulary of {targetVocabulary}.");
        }
        var tokens = 0;
        for (var i = 0; i < pairs.Count; i++)
        {
            var (source, target) = (pairs[i]?.Source, pairs[i]?.Target);
            if (source is null || target is null || source.Count == 0 || target.Count == 0)
            {
                throw new ArgumentException($"Pair {i} has an empty (or missing) source or target sentence; every sentence needs at least one token.", nameof(pairs));
            }
            foreach (var id in source)
            {
                if (id < 0 || id >= sourceVocabulary)
                {
                    throw new ArgumentOutOfRangeException(nameof(pairs), id, $"Pair {i}: source id {id} is outside the source vocabulary of {sourceVocabulary}.");
                }
            }
            foreach (var id in target)
            {
                if (id != loss.IgnoreIndex && (id < 0 || id >= targetVocabulary))
                {
                    throw new ArgumentOutOfRangeException(nameof(pairs), id, $"Pair {i}: target id {id} is outside the target vocabulary of {targetVocabulary}.");
                }
            }
            tokens += target.Count(id => id != loss.IgnoreIndex);
        }
        return tokens > 0 ? tokens : throw new ArgumentException("No target token of the batch counts (all are the ignore index): the mean over no tokens is 0/0.", nameof(pairs));
    }
}
