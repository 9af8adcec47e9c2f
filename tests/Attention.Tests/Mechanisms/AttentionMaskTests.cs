using Attention.Mechanisms;
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Tests.Mechanisms;

public class AttentionMaskTests
{
    private const float Inf = float.PositiveInfinity;

    [Fact]
    public void The_causal_mask_hides_every_key_after_the_query()
    {
        // torch.ones(3, 4).tril() keeps j ≤ i; the rest becomes −∞.
        AttentionMask.Causal.ToAdditive(3, 4).Should().Be(Matrix<float>.Build.DenseOfArray(new[,]
        {
            { 0, -Inf, -Inf, -Inf },
            { 0, 0, -Inf, -Inf },
            { 0, 0, 0, -Inf },
        }));
    }

    [Fact]
    public void A_boolean_mask_follows_PyTorch_true_means_hidden()
    {
        var mask = AttentionMask.FromBoolean(new[,] { { true, false } });
        mask.BiasAt(0, 0).Should().Be(float.NegativeInfinity);
        mask.BiasAt(0, 1).Should().Be(0.0f);
    }

    [Fact]
    public void Masks_copy_what_they_are_built_from()
    {
        var flags = new[,] { { true, false } };
        var bias = Matrix<float>.Build.Dense(1, 2, 0.5f);
        var boolean = AttentionMask.FromBoolean(flags);
        var additive = AttentionMask.Additive(bias);
        flags[0, 0] = false;
        bias[0, 0] = 7.0f;
        boolean.BiasAt(0, 0).Should().Be(float.NegativeInfinity);
        additive.BiasAt(0, 0).Should().Be(0.5f);
    }

    [Fact]
    public void Combining_masks_of_different_shapes_is_refused()
    {
        var combine = () => AttentionMask.Combine(AttentionMask.FromBoolean(new bool[2, 3]), AttentionMask.FromBoolean(new bool[3, 3]));
        combine.Should().Throw<ArgumentException>().WithMessage("*[2 × 3]*[3 × 3]*");
    }

    [Fact]
    public void Renormalizing_after_the_softmax_leaves_rows_with_nothing_visible_at_zero()
    {
        var weights = Matrix<float>.Build.DenseOfArray(new float[,] { { 0.25f, 0.75f }, { 0.5f, 0.5f } });
        var mask = AttentionMask.FromBoolean(new[,] { { true, true }, { false, true } });
        mask.MaskWeightsAndRenormalize(weights).Should().Be(Matrix<float>.Build.DenseOfArray(new float[,] { { 0, 0 }, { 1, 0 } }));
        weights[0, 1].Should().Be(0.75f, "the input is not modified");
    }

    [Fact]
    public void Asking_for_a_bias_outside_the_mask_names_the_index_and_the_shape()
    {
        var padding = AttentionMask.KeyPadding(4, 2);
        var pastTheKeys = () => padding.BiasAt(0, 4);
        pastTheKeys.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("key").WithMessage("*(0, 4)*[any × 4]*");
        var negative = () => AttentionMask.Causal.BiasAt(-1, 0);
        negative.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("query");
        AttentionMask.Causal.BiasAt(1000, 1001).Should().Be(float.NegativeInfinity, "a causal mask fits any shape");
    }

    [Fact]
    public void Stacked_sentences_see_only_themselves()
    {
        // Two sentences of 2 and 3 tokens stacked: rows 0–1 are sentence 0, rows 2–4 sentence 1 (. keeps, x hides).
        var self = AttentionMask.Sentences([2, 3], [2, 3], causal: true).ToAdditive(5, 5);
        string[] expected = [". x x x x", ". . x x x", "x x . x x", "x x . . x", "x x . . ."];
        Enumerable.Range(0, 5).Select(i => string.Join(" ", self.Row(i).Select(b => b == 0 ? "." : "x"))).Should().Equal(expected);
        // Cross-attention: targets of 1 and 2 tokens over sources of 3 and 1.
        var cross = AttentionMask.Sentences([1, 2], [3, 1]).ToAdditive(3, 4);
        string[] crossExpected = [". . . x", "x x x .", "x x x ."];
        Enumerable.Range(0, 3).Select(i => string.Join(" ", cross.Row(i).Select(b => b == 0 ? "." : "x"))).Should().Equal(crossExpected);
        var unequal = () => AttentionMask.Sentences([1, 2], [3, 1], causal: true);
        unequal.Should().Throw<ArgumentException>().WithMessage("*queries [1, 2], keys [3, 1]*");
    }
}
