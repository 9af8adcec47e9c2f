using Attention.Layers;
using Attention.Mechanisms;
using Attention.Randomness;
using Attention.Tests.Support;
using Attention.Training;
using Attention.Transformers;
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Tests.Lessons;

/// <summary>
/// The bugs every Transformer implementation meets, each shown side by side with the right code (docs/common-bugs.md):
/// the right version equals PyTorch or keeps the property, the buggy one visibly does not. Each bug runs without an
/// error and returns numbers of the right shape, which is why it survives until something like these tests.
/// </summary>
public class CommonBugsLesson
{
    [Fact]
    public void Scaling_by_the_square_root_of_d_model_instead_of_d_k_changes_every_head()
    {
        // nn.MultiheadAttention(8, 2): d_model 8, two heads of d_k = 4. The scores must be divided by √4 = 2, not √8.
        var torch = Fixture.Load("mha_self_e8_h2.json");
        var attention = MultiHeadAttention.FromStateDict(new Dictionary<string, Matrix<float>>
        {
            ["in_proj_weight"] = torch.Matrix("in_proj_weight"), ["in_proj_bias"] = torch.Row("in_proj_bias"),
            ["out_proj.weight"] = torch.Matrix("out_proj_weight"), ["out_proj.bias"] = torch.Row("out_proj_bias"),
        }, headCount: 2);
        var (query, key, value) = (torch.Matrix("query"), torch.Matrix("key"), torch.Matrix("value"));
        Matrix<float> WithScale(float scale)
        {
            var (q, k, v) = (attention.QueryProjection.Forward(query), attention.KeyProjection.Forward(key), attention.ValueProjection.Forward(value));
            var heads = Enumerable.Range(0, 2).Select(h => ScaledDotProductAttention.Compute(
                q.SubMatrix(0, q.RowCount, 4 * h, 4), k.SubMatrix(0, k.RowCount, 4 * h, 4), v.SubMatrix(0, v.RowCount, 4 * h, 4), scale: scale).Output).ToArray();
            return attention.OutputProjection.Forward(heads[0].Append(heads[1]));
        }
        Expect.Close(WithScale(1 / MathF.Sqrt(4)), torch.Matrix("output"), what: "1/√d_k: PyTorch's output");
        var bug = (WithScale(1 / MathF.Sqrt(8)) - torch.Matrix("output")).Enumerate().Max(Math.Abs);
        bug.Should().BeGreaterThan(1e-3f, "1/√d_model makes every head's softmax flatter");
    }

    [Fact]
    public void A_transposed_causal_mask_lets_tokens_see_the_future()
    {
        // Right: query i sees keys 0 … i (lower triangle). Transposed: query i sees keys i … n − 1 (the future).
        var (q, k, v) = (RandomMatrices.Uniform(5, 4, 1), RandomMatrices.Uniform(5, 4, 2), RandomMatrices.Uniform(5, 3, 3));
        var transposed = new bool[5, 5];
        for (var i = 0; i < 5; i++)
        {
            for (var j = 0; j < i; j++)
            {
                transposed[i, j] = true;                                   // hides the past instead of the future
            }
        }
        var changedLast = v.Clone();
        changedLast.SetRow(4, [9f, 9f, 9f]);                               // only the last token changes
        Matrix<float> First(AttentionMask mask, Matrix<float> values) => ScaledDotProductAttention.Compute(q, k, values, mask).Output.SubMatrix(0, 1, 0, 3);

        First(AttentionMask.Causal, changedLast).Should().Be(First(AttentionMask.Causal, v), "with the causal mask the first token cannot see the last");
        First(AttentionMask.FromBoolean(transposed), changedLast).Should().NotBe(First(AttentionMask.FromBoolean(transposed), v), "the transposed mask leaks the future");
    }

    [Fact]
    public void Targets_not_shifted_right_let_the_decoder_read_the_token_it_must_predict()
    {
        var model = new Transformer(TransformerOptions.Small(12, 12) with { Dropout = 0 }, new TorchGenerator(4));
        int[] source = [5, 6, 7];
        int[] target = [8, 9, 10, 2];
        int[] changed = [8, 9, 11, 2];                                     // only target[2] differs
        Matrix<float> Row2(int[] decoderInput) => model.Forward(source, decoderInput).SubMatrix(2, 1, 0, 12);

        // Right: the decoder reads <sos> t0 t1 t2 and row 2 predicts t2 from <sos> t0 t1 only.
        Row2([1, .. target[..^1]]).Should().Be(Row2([1, .. changed[..^1]]), "the prediction of t2 must not depend on t2");
        // Bug: the decoder reads t0 t1 t2 t3; row 2 has seen t2, the answer, and training learns to copy it.
        Row2(target).Should().NotBe(Row2(changed));
    }

    [Fact]
    public void Counting_padding_in_the_loss_changes_it_and_its_gradient()
    {
        // The first batch of training_steps_sinusoidal.json: three targets of 3, 5 and 2 tokens, padded to 5 with 0.
        // PyTorch's loss ignores the padded labels (ignore_index = −100): the mean over 10 real tokens.
        var torch = Fixture.Load("training_steps_sinusoidal.json");
        var model = Transformer.FromStateDict(torch.State(), new TransformerOptions
        {
            ModelDim = 12, HeadCount = 3, FeedForwardDim = 20, EncoderLayers = 2, DecoderLayers = 2, Dropout = 0, SourceVocabularySize = 11,
            TargetVocabularySize = 13, MaxPositions = 16, PaddingIndex = 0,
        });
        (int[] Source, int[] Target)[] pairs = [([3, 4, 5, 6], [5, 7, 2]), ([7, 8], [9, 10, 11, 12, 2]), ([9, 10, 3, 4, 5, 6, 7], [3, 2])];
        var sum = new CrossEntropyLoss(ignoreIndex: -100, labelSmoothing: 0.1f, reduction: LossReduction.Sum);
        double Loss(int padLabel, int divisor) => pairs.Sum(p =>
        {
            var input = (int[])[1, .. p.Target[..^1], .. Enumerable.Repeat(0, 5 - p.Target.Length)];   // <sos>, shifted, padded with 0
            var labels = (int[])[.. p.Target, .. Enumerable.Repeat(padLabel, 5 - p.Target.Length)];
            return (double)sum.Forward(model.Forward(p.Source, input), labels).Loss;
        }) / divisor;

        Loss(padLabel: -100, divisor: 10).Should().BeApproximately(torch.Data("losses")[0], 1e-5, "padding ignored: PyTorch's loss");
        Loss(padLabel: 0, divisor: 15).Should().NotBeApproximately(torch.Data("losses")[0], 0.05, "5 padded positions counted as tokens that must predict <pad>");
    }

    [Fact]
    public void Concatenating_sines_and_cosines_instead_of_interleaving_them_is_another_table()
    {
        // PE(pos, 2i) = sin(pos / 10000^(2i/d)), PE(pos, 2i + 1) = cos(…): sines in the even columns, cosines in the odd.
        var torch = Fixture.Load("sinusoidal_positional_encoding.json");
        var interleaved = new SinusoidalPositionalEncoding(8, maxPositions: 100).Encode(50);
        Expect.Close(interleaved, torch.Matrix("pe_d8"), 0, 6e-8f, "interleaved: the paper's table");
        // The bug: all sines first, then all cosines (some code bases do this on purpose; weights trained one way do not
        // work with the other).
        var concatenated = Matrix<float>.Build.Dense(50, 8, (pos, c) =>
        {
            var i = c % 4;
            var angle = pos / Math.Pow(10000, 2.0 * i / 8);
            return (float)(c < 4 ? Math.Sin(angle) : Math.Cos(angle));
        });
        (concatenated - interleaved).Enumerate().Max(Math.Abs).Should().BeGreaterThan(0.5f);
    }

    [Fact]
    public void Post_norm_and_pre_norm_are_different_layers_with_the_same_weights()
    {
        // nn.TransformerEncoderLayer(norm_first=True): x + Attention(LN(x)). The paper's post-norm is LN(x + Attention(x)).
        var torch = Fixture.Load("encoder_layer_pre_norm.json");
        var options = TransformerOptions.Small(10, 10);
        var src = torch.Matrix("src");
        var mask = AttentionMask.KeyPadding([false, false, false, false, true, true]);
        var pre = EncoderLayer.FromStateDict(torch.State(), "", options with { NormFirst = true }, new TorchGenerator(0));
        var post = EncoderLayer.FromStateDict(torch.State(), "", options with { NormFirst = false }, new TorchGenerator(0));
        Expect.Close(pre.Forward(src, mask), torch.Matrix("output"), what: "norm_first=True read as pre-norm");
        (post.Forward(src, mask) - torch.Matrix("output")).Enumerate().Max(Math.Abs).Should().BeGreaterThan(1e-2f, "the same weights read as post-norm");
    }
}
