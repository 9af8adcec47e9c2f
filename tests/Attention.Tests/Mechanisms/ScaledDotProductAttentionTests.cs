using Attention.Mechanisms;
using Attention.Tests.Support;
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Tests.Mechanisms;

/// <summary>
/// softmax(Q·Kᵀ/√d_k + mask)·V against PyTorch (scaled_dot_product_attention.json) with seq_q = 3 ≠ seq_k = 5 and
/// d_k = 4 ≠ d_v = 6, so a transposed or mis-scaled product cannot pass; then the properties every attention must have.
/// </summary>
public class ScaledDotProductAttentionTests
{
    private static readonly Fixture Torch = Fixture.Load("scaled_dot_product_attention.json");
    private static readonly Matrix<float> Q = Torch.Matrix("q");
    private static readonly Matrix<float> K = Torch.Matrix("k");
    private static readonly Matrix<float> V = Torch.Matrix("v");

    [Fact]
    public void Without_a_mask_it_equals_torch()
    {
        var result = ScaledDotProductAttention.Compute(Q, K, V);
        Expect.Close(result.Scores, Torch.Matrix("scores"), what: "scores Q·Kᵀ");
        Expect.Close(result.Weights, Torch.Matrix("weights_plain"), what: "weights");
        Expect.Close(result.Output, Torch.Matrix("output_plain"), what: "output");
    }

    [Fact]
    public void A_causal_mask_on_3_queries_and_5_keys_is_aligned_at_the_top_left_as_in_torch()
    {
        var result = ScaledDotProductAttention.Compute(Q, K, V, AttentionMask.Causal);
        Expect.Close(result.Weights, Torch.Matrix("weights_causal"), what: "causal weights");
        Expect.Close(result.Output, Torch.Matrix("output_causal"), what: "causal output");
        result.Weights[0, 1].Should().Be(0.0f, "query 0 may only see key 0");
    }

    [Fact]
    public void A_boolean_mask_hides_the_keys_marked_true()
    {
        var mask = AttentionMask.FromBoolean(new[,]
        {
            { false, true, false, false, true },
            { true, false, false, true, false },
            { false, false, false, false, true },
        });
        var result = ScaledDotProductAttention.Compute(Q, K, V, mask);
        Expect.Close(result.Weights, Torch.Matrix("weights_boolean"), what: "boolean-masked weights");
        Expect.Close(result.Output, Torch.Matrix("output_boolean"), what: "boolean-masked output");
    }

    [Fact]
    public void An_additive_mask_is_added_to_the_scaled_scores()
    {
        var result = ScaledDotProductAttention.Compute(Q, K, V, AttentionMask.Additive(Torch.Matrix("additive_mask")));
        Expect.Close(result.Weights, Torch.Matrix("weights_additive"), what: "additively masked weights");
        Expect.Close(result.Output, Torch.Matrix("output_additive"), what: "additively masked output");
    }

    [Fact]
    public void Combined_masks_hide_a_key_hidden_by_either()
    {
        var boolean = AttentionMask.FromBoolean(new bool[3, 5] { { false, false, false, false, false }, { false, true, false, false, false }, { false, false, false, false, false } });
        var combined = AttentionMask.Combine(AttentionMask.Causal, boolean);
        var weights = ScaledDotProductAttention.Compute(Q, K, V, combined).Weights;

        weights[1, 1].Should().Be(0.0f, "the boolean mask hides key 1 from query 1");
        weights[1, 2].Should().Be(0.0f, "the causal mask hides key 2 from query 1");
        weights[1, 0].Should().BeApproximately(1.0f, 1e-6f, "only key 0 is left for query 1");
    }

    [Fact]
    public void Every_row_of_weights_sums_to_one()
    {
        var weights = ScaledDotProductAttention.Compute(RandomMatrices.Uniform(17, 8, 1) * 3, RandomMatrices.Uniform(23, 8, 2) * 3, RandomMatrices.Uniform(23, 5, 3)).Weights;
        for (var i = 0; i < weights.RowCount; i++)
        {
            weights.Row(i).Sum().Should().BeApproximately(1.0f, 1e-6f, $"row {i} is a probability distribution");
            weights.Row(i).Should().OnlyContain(w => w >= 0.0f);
        }
    }

    [Fact]
    public void Under_a_causal_mask_changing_a_later_token_never_changes_an_earlier_output()
    {
        var x = RandomMatrices.Uniform(9, 6, 4);
        var before = ScaledDotProductAttention.Compute(x, x, x, AttentionMask.Causal).Output;
        var changed = x.Clone();
        changed.SetRow(5, RandomMatrices.Uniform(1, 6, 5).Row(0) * 10);
        var after = ScaledDotProductAttention.Compute(changed, changed, changed, AttentionMask.Causal).Output;

        after.SubMatrix(0, 5, 0, 6).Should().Be(before.SubMatrix(0, 5, 0, 6), "tokens 0–4 cannot see token 5");
        after.Row(5).Should().NotEqual(before.Row(5), "token 5 itself did change");
    }

    [Fact]
    public void Huge_logits_stay_finite_because_the_row_maximum_is_subtracted()
    {
        // Scores of 1e4 and 1e4 − 1: exp(1e4) overflows float, but exp(0) and exp(−1) do not.
        // Weights are 1/(1 + e⁻¹) = 0.7311 and e⁻¹/(1 + e⁻¹) = 0.2689.
        var q = Matrix<float>.Build.DenseOfArray(new float[,] { { 1e4f } });
        var k = Matrix<float>.Build.DenseOfArray(new float[,] { { 1.0f }, { 0.9999f } });
        var v = Matrix<float>.Build.DenseOfArray(new float[,] { { 1.0f }, { 0.0f } });
        var result = ScaledDotProductAttention.Compute(q, k, v, scale: 1.0f);
        Expect.Close(result.Weights.Row(0), Vector<float>.Build.DenseOfArray([0.7311f, 0.2689f]), 0, 1e-4f, "weights of huge logits");
        result.Output[0, 0].Should().BeApproximately(0.7311f, 1e-3f);
    }

    [Fact]
    public void A_fully_masked_row_gets_zero_weights_and_a_zero_output_row()
    {
        // Our policy. PyTorch 1.13 computes softmax([-inf, -inf]) = [nan, nan] and the NaN spreads to the output.
        var mask = AttentionMask.FromBoolean(new bool[3, 5] { { true, true, true, true, true }, { false, false, false, false, false }, { false, true, true, true, true } });
        var result = ScaledDotProductAttention.Compute(Q, K, V, mask);

        result.Weights.Row(0).Should().OnlyContain(w => w == 0.0f);
        result.Output.Row(0).Should().OnlyContain(o => o == 0.0f);
        result.Weights[2, 0].Should().Be(1.0f, "query 2 sees only key 0");
        Expect.Close(result.Output.Row(2), V.Row(0), what: "query 2's output is value 0");
    }

    [Fact]
    public void A_NaN_score_makes_its_row_NaN_and_leaves_other_rows_alone()
    {
        var q = Q.Clone();
        q[1, 2] = float.NaN;
        var result = ScaledDotProductAttention.Compute(q, K, V);
        result.Weights.Row(1).Should().OnlyContain(w => float.IsNaN(w));
        result.Output.Row(1).Should().OnlyContain(o => float.IsNaN(o));
        Expect.Close(result.Output.Row(0), Torch.Matrix("output_plain").Row(0), what: "row 0 is untouched");
    }

    [Fact]
    public void Inputs_are_never_modified()
    {
        var (q, k, v) = (Q.Clone(), K.Clone(), V.Clone());
        ScaledDotProductAttention.Compute(q, k, v, AttentionMask.Causal);
        q.Should().Be(Q);
        k.Should().Be(K);
        v.Should().Be(V);
    }

    [Fact]
    public void Queries_and_keys_of_different_widths_name_both_shapes()
    {
        var compute = () => ScaledDotProductAttention.Compute(Q, Matrix<float>.Build.Dense(5, 3), V);
        compute.Should().Throw<ArgumentException>().WithParameterName("keys").WithMessage("*d_k*[3 × 4]*[5 × 3]*");
    }

    [Fact]
    public void Keys_and_values_of_different_lengths_name_both_shapes()
    {
        var compute = () => ScaledDotProductAttention.Compute(Q, K, Matrix<float>.Build.Dense(4, 6));
        compute.Should().Throw<ArgumentException>().WithParameterName("values").WithMessage("*[5 × 4]*[4 × 6]*");
    }

    [Fact]
    public void A_mask_of_the_wrong_shape_names_both_shapes()
    {
        var compute = () => ScaledDotProductAttention.Compute(Q, K, V, AttentionMask.FromBoolean(new bool[3, 4]));
        compute.Should().Throw<ArgumentException>().WithParameterName("mask").WithMessage("*[3 × 4]*[3 × 5]*");
    }
}
