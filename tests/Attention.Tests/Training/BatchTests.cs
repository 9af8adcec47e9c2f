using Attention.Randomness;
using Attention.Training;
using Attention.Transformers;

namespace Attention.Tests.Training;

/// <summary>A batch is a sum over its sentences: the loss is the mean over every real target token, as PyTorch averages a
/// padded batch, and bad input is refused before any gradient changes.</summary>
public class BatchTests
{
    private static readonly TransformerOptions Options = TransformerOptions.Small(9, 9) with { ModelDim = 8, HeadCount = 2, FeedForwardDim = 16, MaxPositions = 10 };
    private static readonly SentencePair[] Pairs = [new([3, 4, 5], [6, 7, 2]), new([5, 6, 7, 8, 3], [4, 0]), new([1], [7, 7, 6, 2])];

    [Fact]
    public void The_loss_is_the_mean_over_the_real_target_tokens_of_the_whole_batch()
    {
        // 3 + 1 + 4 = 8 tokens count (label 0 is padding, ignored): the batch mean is the sum of all 8 token losses / 8,
        // not the mean of the three sentences' means.
        var model = new Transformer(Options, new TorchGenerator(1));
        var loss = new CrossEntropyLoss(ignoreIndex: 0, labelSmoothing: 0.1f);
        var batch = Batch.ForwardBackward(model, Pairs, loss, startToken: 1);
        var perToken = Pairs.SelectMany(p =>
        {
            var logits = model.ForwardRecorded(p.Source, [1, .. p.Target.Take(p.Target.Count - 1)]).Logits;
            return new CrossEntropyLoss(ignoreIndex: 0, labelSmoothing: 0.1f, reduction: LossReduction.None).Forward(logits, p.Target).PerToken.Enumerate();
        }).ToArray();
        batch.Should().BeApproximately(perToken.Sum() / 8, 1e-5f);
    }

    [Fact]
    public void The_batch_gradient_is_the_sum_of_the_sentences_gradients_weighted_by_their_tokens()
    {
        var loss = new CrossEntropyLoss(ignoreIndex: 0);
        var together = new Transformer(Options, new TorchGenerator(2));
        Batch.ForwardBackward(together, Pairs, loss, startToken: 1);
        var apart = new Transformer(Options, new TorchGenerator(2));
        foreach (var (pair, tokens) in Pairs.Zip(new[] { 3, 1, 4 }))
        {
            // Each sentence alone averages over its own tokens; scaling by tokens / 8 turns that into its share of the batch mean.
            var before = apart.Parameters().Select(p => p.Gradient.Clone()).ToArray();
            Batch.ForwardBackward(apart, [pair], loss, startToken: 1);
            foreach (var (parameter, previous) in apart.Parameters().Zip(before))
            {
                parameter.Gradient.Subtract(previous).Multiply(tokens / 8f).Add(previous, parameter.Gradient);
            }
        }
        foreach (var (a, b) in together.Parameters().Zip(apart.Parameters()))
        {
            Support.Expect.Close(a.Gradient, b.Gradient, what: "a parameter's batch gradient");
        }
    }

    [Fact]
    public void Bad_pairs_are_refused_before_any_gradient_changes()
    {
        var model = new Transformer(Options, new TorchGenerator(3));
        var loss = new CrossEntropyLoss();
        var empty = () => Batch.ForwardBackward(model, [Pairs[0], new([2, 3], [])], loss, startToken: 1);
        empty.Should().Throw<ArgumentException>().WithMessage("*Pair 1*empty*");
        var outside = () => Batch.ForwardBackward(model, [Pairs[0], new([2, 3], [4, 9])], loss, startToken: 1);
        outside.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*Pair 1: target id 9*9*");
        model.Parameters().Should().OnlyContain(p => p.Gradient.Enumerate().All(g => g == 0f), "pair 0 was valid, but nothing ran");
    }
}
