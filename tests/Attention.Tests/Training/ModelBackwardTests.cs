using Attention.Mechanisms;
using Attention.Randomness;
using Attention.Transformers;
using Attention.Training;
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Tests.Training;

/// <summary>The whole model's backward pass (embeddings ·√d_model, positions, encoder, decoder, LM head, cross-entropy with
/// label smoothing and an ignored target), checked entry by entry against central finite differences of the loss.</summary>
public class ModelBackwardTests
{
    private static readonly int[] Source = [3, 1, 4, 1, 5];
    private static readonly int[] Target = [2, 6, 5, 3];
    private static readonly int[] Labels = [6, 5, 3, 0];   // the target shifted left; label 0 plays <pad> and is ignored

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public void Gradients_agree_with_finite_differences(bool tied, bool learnedPositions)
    {
        var options = TransformerOptions.Small(8, 8) with
        {
            ModelDim = 8, HeadCount = 2, FeedForwardDim = 16, MaxPositions = 10, TieOutputToEmbedding = tied, LearnedPositions = learnedPositions,
        };
        var model = new Transformer(options, new TorchGenerator(7));
        var loss = new CrossEntropyLoss(ignoreIndex: 0, labelSmoothing: 0.1f);
        var padding = AttentionMask.KeyPadding(keyCount: 5, length: 4);
        var record = model.ForwardRecorded(Source, Target, padding);
        model.Backward(record, loss.Backward(record.Logits, Labels));

        float Loss() => loss.Forward(model.ForwardRecorded(Source, Target, padding).Logits, Labels).Loss;
        var checks = new List<(string Name, Parameter Parameter, int Row, int Column)>
        {
            ("source embedding of token 1 (used twice)", model.SourceEmbedding.WeightParameter, 1, 3),
            ("target embedding of token 5", model.TargetEmbedding.WeightParameter, 5, 0),
            ("target embedding of token 7 (unused: only the tied head reads it)", model.TargetEmbedding.WeightParameter, 7, 2),
            ("LM head bias", model.LmHead.BiasParameter!, 0, 6),
            ("encoder layer 0 linear1", model.Encoder.Layers[0].FeedForward.Linear1.WeightParameter, 4, 5),
            ("decoder layer 1 cross-attention W_V", model.Decoder.Layers[1].CrossAttention.ValueProjection.WeightParameter, 3, 7),
            ("decoder final norm gain", model.Decoder.Norm!.GainParameter, 0, 2),
        };
        if (learnedPositions)
        {
            checks.Add(("learned position 3", ((Attention.Layers.LearnedPositionalEncoding)model.Positions).Table.WeightParameter, 3, 1));
        }
        foreach (var (name, parameter, row, column) in checks)
        {
            // h = 1e-2 in float32: the numeric derivative is good to about 1e-3 here; a wrong term (a missing √d_model,
            // a lost tied contribution, a gradient sent to the wrong row) is off by far more.
            const float h = 1e-2f;
            var keep = parameter.Value[row, column];
            parameter.Value[row, column] = keep + h;
            var up = Loss();
            parameter.Value[row, column] = keep - h;
            var down = Loss();
            parameter.Value[row, column] = keep;
            var numeric = (up - down) / (2 * h);
            parameter.Gradient[row, column].Should().BeApproximately(numeric, 2e-3f + 0.02f * Math.Abs(numeric), $"∂L/∂{name}[{row}, {column}] (tied {tied})");
        }
        if (!tied)
        {
            model.TargetEmbedding.WeightParameter.Gradient.Row(7).Enumerate().Should().OnlyContain(g => g == 0f, "an unused token's row gets no gradient");
        }
        else
        {
            model.LmHead.WeightParameter.Should().BeSameAs(model.TargetEmbedding.WeightParameter, "tied weights share one parameter");
        }
    }
}
