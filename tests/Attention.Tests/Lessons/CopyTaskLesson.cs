using System.Diagnostics;
using Attention.Randomness;
using Attention.Training;
using Attention.Transformers;

namespace Attention.Tests.Lessons;

/// <summary>
/// It learns: the Annotated Transformer's copy task. The source is 9 random tokens from 2 … 10; the model must write them
/// back. Training is the whole loop in a dozen lines: a batch forward and backward (Batch.ForwardBackward: the sentences
/// stacked, the loss the batch's mean), Adam (the paper's β₁ = 0.9, β₂ = 0.98, ε = 1e-9) with a cosine-decayed learning
/// rate, 1,500 batches of 16 sentence pairs (about 17 s here). Then greedy decoding of 200 held-out sequences must copy
/// every one. The margin is thin: a different rounding of the gradients has once left 199 of 200 at this step budget.
/// </summary>
public class CopyTaskLesson
{
    private const int Start = 1, Length = 9;

    [Fact]
    public void A_small_Transformer_learns_to_copy_and_copies_200_unseen_sequences_exactly()
    {
        var options = TransformerOptions.Small(11, 11) with { ModelDim = 32, HeadCount = 4, FeedForwardDim = 64, MaxPositions = 16 };
        var model = new Transformer(options, new TorchGenerator(1));
        var loss = new CrossEntropyLoss();                                // no smoothing: a copy has one right answer
        var optimizer = new Adam(model.Parameters(), learningRate: 0, beta1: 0.9f, beta2: 0.98f, epsilon: 1e-9f);
        var schedule = LearningRateSchedule.Cosine(peak: 8e-3f, floor: 5e-5f, totalSteps: Steps);
        var data = new Random(2);
        var watch = Stopwatch.StartNew();
        for (var step = 1; step <= Steps; step++)
        {
            optimizer.ZeroGradients();
            var batch = Enumerable.Range(0, 16).Select(_ => Sequence(data)).Select(s => new SentencePair(s, s)).ToArray();   // copy: target = source
            Batch.ForwardBackward(model, batch, loss, Start);               // forward, loss (the batch's mean), backward
            optimizer.LearningRate = schedule(step);
            optimizer.Step();
        }
        var trainingTime = watch.Elapsed;

        var decoding = new Decoding(model);
        var heldOut = new Random(3);
        var copied = Enumerable.Range(0, 200).Select(_ => Sequence(heldOut))
            .Count(source => decoding.Greedy(source, new DecodingOptions { StartToken = Start, MaxNewTokens = Length }).Tokens.SequenceEqual(source));
        copied.Should().Be(200, $"after {Steps} steps of 16 pairs ({trainingTime.TotalSeconds:F1} s of training)");
    }

    private const int Steps = 1500;

    private static int[] Sequence(Random random) => [.. Enumerable.Range(0, Length).Select(_ => random.Next(2, 11))];
}
