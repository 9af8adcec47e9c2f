using Attention.Mechanisms;
using Attention.Tests.Support;
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Tests.Mechanisms;

/// <summary>
/// Multi-head attention against torch.nn.MultiheadAttention 1.13 (batch_first, eval, dropout 0, non-zero biases),
/// fixtures mha_*.json from tools/reference/generate.py. Output, per-head weights and averaged weights must agree to
/// about 1e-5. PyTorch scales q by 1/√d_k before Q·Kᵀ and we scale the product; the orders differ only by rounding.
/// </summary>
public class MultiHeadAttentionTests
{
    /// <summary>The fixture's parameters under their state_dict names.</summary>
    private static Dictionary<string, Matrix<float>> State(Fixture torch)
    {
        var state = new Dictionary<string, Matrix<float>>();
        foreach (var name in new[] { "in_proj_weight", "q_proj_weight", "k_proj_weight", "v_proj_weight", "out_proj_weight" })
        {
            if (torch.Has(name))
            {
                state[name.Replace("out_proj_", "out_proj.", StringComparison.Ordinal)] = torch.Matrix(name);
            }
        }
        state["in_proj_bias"] = torch.Row("in_proj_bias");
        state["out_proj.bias"] = torch.Row("out_proj_bias");
        return state;
    }

    private static (MultiHeadAttention Layer, Fixture Torch) Load(string file, int heads)
    {
        var torch = Fixture.Load(file);
        return (MultiHeadAttention.FromStateDict(State(torch), heads), torch);
    }

    public static TheoryData<string, int, string> Cases() => new()
    {
        { "mha_self_e8_h2.json", 2, "none" },
        { "mha_self_e16_h4.json", 4, "none" },
        { "mha_cross_e8_h2.json", 2, "none" },
        { "mha_kdim_vdim.json", 2, "none" },
        { "mha_key_padding.json", 2, "key padding [F F F T T]" },
        { "mha_causal_bool.json", 2, "causal" },
        { "mha_causal_float.json", 2, "additive causal" },
        { "mha_causal_and_padding.json", 2, "causal + key padding, length 4" },
    };

    private static AttentionMask? MaskFor(string mask, Fixture torch) => mask switch
    {
        "none" => null,
        "key padding [F F F T T]" => AttentionMask.KeyPadding([false, false, false, true, true]),
        "causal" => AttentionMask.Causal,
        "additive causal" => AttentionMask.Additive(torch.Matrix("attn_mask")),
        "causal + key padding, length 4" => AttentionMask.Combine(AttentionMask.Causal, AttentionMask.KeyPadding(keyCount: 5, length: 4)),
        _ => throw new ArgumentOutOfRangeException(nameof(mask)),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Output_head_weights_and_averaged_weights_equal_PyTorch(string file, int heads, string mask)
    {
        var (layer, torch) = Load(file, heads);
        var result = layer.Forward(torch.Matrix("query"), torch.Matrix("key"), torch.Matrix("value"), MaskFor(mask, torch));

        Expect.Close(result.Output, torch.Matrix("output"), what: $"{file} output");
        for (var h = 0; h < heads; h++)
        {
            Expect.Close(result.HeadWeights![h], torch.Matrix($"head_{h}_weights"), what: $"{file} head {h} weights");
        }
        Expect.Close(result.AverageWeights!, torch.Matrix("averaged"), what: $"{file} averaged weights");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Without_weights_the_fused_heads_give_PyTorchs_output(string file, int heads, string mask)
    {
        var (layer, torch) = Load(file, heads);
        var result = layer.Forward(torch.Matrix("query"), torch.Matrix("key"), torch.Matrix("value"), MaskFor(mask, torch), needWeights: false);

        Expect.Close(result.Output, torch.Matrix("output"), what: $"{file} output, fused");
        result.HeadWeights.Should().BeNull();
    }

    [Theory]
    [InlineData(300, 300, "none")]      // 8 heads × 300 × 300 is enough work for one head per thread
    [InlineData(300, 300, "causal")]
    [InlineData(130, 257, "padding")]
    [InlineData(1, 17, "none")]         // one query: a decoding step
    public void Fused_heads_equal_the_heads_that_keep_their_weights(int n, int m, string mask)
    {
        var layer = new MultiHeadAttention(64, 8, seed: 5);
        var (query, memory) = (RandomMatrices.Uniform(n, 64, 1), RandomMatrices.Uniform(m, 64, 2));
        var attentionMask = mask switch
        {
            "causal" => AttentionMask.Causal,
            "padding" => AttentionMask.KeyPadding(m, m - 5),
            _ => null,
        };

        var fused = layer.Forward(query, memory, memory, attentionMask, needWeights: false).Output;

        Expect.Close(fused, layer.Forward(query, memory, memory, attentionMask, needWeights: true).Output, what: $"{n} queries, {m} keys, {mask}");
    }

    [Fact]
    public void A_fully_masked_query_gets_zero_weights_where_PyTorch_gives_NaN()
    {
        var (layer, torch) = Load("mha_fully_masked_row.json", 2);
        var mask = AttentionMask.FromBoolean(new[,]
        {
            { false, true, false, false },
            { true, true, true, true },
            { false, false, false, true },
            { false, false, false, false },
        });
        var result = layer.Forward(torch.Matrix("query"), torch.Matrix("key"), torch.Matrix("value"), mask);

        // PyTorch 1.13: softmax of a row of −∞ is NaN, and the NaN spreads through W_O to the whole output row.
        torch.Matrix("output").Row(1).Should().OnlyContain(v => float.IsNaN(v));
        torch.Matrix("head_0_weights").Row(1).Should().OnlyContain(v => float.IsNaN(v));
        // Ours: the row's weights are zero, every head contributes zero, so the output row is just the bias b_O.
        result.HeadWeights!.Should().AllSatisfy(w => w.Row(1).Should().OnlyContain(v => v == 0.0f));
        result.AverageWeights!.Row(1).Should().OnlyContain(v => v == 0.0f);
        Expect.Close(result.Output.Row(1), layer.OutputProjection.Bias!, what: "output row of a fully masked query");
        // The other rows are unaffected and equal PyTorch's.
        foreach (var row in new[] { 0, 2, 3 })
        {
            Expect.Close(result.Output.Row(row), torch.Matrix("output").Row(row), what: $"output row {row}");
        }
    }

    [Fact]
    public void A_new_layer_is_initialised_exactly_as_torch_nn_MultiheadAttention()
    {
        var init = Fixture.Load("mha_init.json");
        var same = new MultiHeadAttention(8, 2, seed: 0);
        Expect.BitExact(same.ToStateDict()["in_proj_weight"].ToRowMajorArray(), init.Data("same_in_proj_weight"), "in_proj_weight");
        Expect.BitExact(same.WO.ToRowMajorArray(), init.Data("same_out_proj_weight"), "out_proj.weight");
        same.OutputProjection.Bias!.Should().OnlyContain(b => b == 0.0f, "PyTorch zeroes out_proj.bias");
        same.QueryProjection.Bias!.Should().OnlyContain(b => b == 0.0f, "and in_proj_bias");

        var split = new MultiHeadAttention(8, 2, new Attention.Randomness.TorchGenerator(0), keyDim: 5, valueDim: 7);
        Expect.BitExact(split.WQ.ToRowMajorArray(), init.Data("split_q_proj_weight"), "q_proj_weight");
        Expect.BitExact(split.WK.ToRowMajorArray(), init.Data("split_k_proj_weight"), "k_proj_weight");
        Expect.BitExact(split.WV.ToRowMajorArray(), init.Data("split_v_proj_weight"), "v_proj_weight");
        Expect.BitExact(split.WO.ToRowMajorArray(), init.Data("split_out_proj_weight"), "out_proj.weight");
    }

    [Fact]
    public void The_state_dict_round_trips_under_PyTorchs_names()
    {
        var (layer, torch) = Load("mha_kdim_vdim.json", 2);
        var state = layer.ToStateDict("decoder.layers.0.multihead_attn.");
        state.Keys.Should().BeEquivalentTo(
            "decoder.layers.0.multihead_attn.q_proj_weight", "decoder.layers.0.multihead_attn.k_proj_weight",
            "decoder.layers.0.multihead_attn.v_proj_weight", "decoder.layers.0.multihead_attn.in_proj_bias",
            "decoder.layers.0.multihead_attn.out_proj.weight", "decoder.layers.0.multihead_attn.out_proj.bias");
        var copy = MultiHeadAttention.FromStateDict(state, 2, "decoder.layers.0.multihead_attn.");
        var (q, k, v) = (torch.Matrix("query"), torch.Matrix("key"), torch.Matrix("value"));
        copy.Forward(q, k, v).Output.Should().Be(layer.Forward(q, k, v).Output);
    }

    [Fact]
    public void Rows_of_weights_sum_to_one_in_every_head()
    {
        var layer = new MultiHeadAttention(16, 4, seed: 3);
        var result = layer.Forward(RandomMatrices.Uniform(7, 16, 1));
        foreach (var weights in result.HeadWeights!.Append(result.AverageWeights!))
        {
            weights.RowSums().Should().OnlyContain(s => Math.Abs(s - 1.0f) < 1e-6f);
        }
    }

    [Fact]
    public void With_one_head_and_identity_projections_it_is_scaled_dot_product_attention()
    {
        var identity = Matrix<float>.Build.DenseIdentity(6);
        var state = new Dictionary<string, Matrix<float>>
        {
            ["in_proj_weight"] = identity.Stack(identity).Stack(identity),
            ["in_proj_bias"] = Matrix<float>.Build.Dense(1, 18),
            ["out_proj.weight"] = identity,
            ["out_proj.bias"] = Matrix<float>.Build.Dense(1, 6),
        };
        var layer = MultiHeadAttention.FromStateDict(state, headCount: 1);
        var (q, k, v) = (RandomMatrices.Uniform(4, 6, 1), RandomMatrices.Uniform(5, 6, 2), RandomMatrices.Uniform(5, 6, 3));

        Expect.Close(layer.Forward(q, k, v).Output, ScaledDotProductAttention.Compute(q, k, v).Output);
    }

    [Fact]
    public void Without_positions_permuting_the_tokens_permutes_the_output_rows_the_same_way()
    {
        var layer = new MultiHeadAttention(8, 2, seed: 4);
        var x = RandomMatrices.Uniform(5, 8, 5);
        int[] order = [3, 0, 4, 1, 2];
        var permuted = Matrix<float>.Build.DenseOfRowVectors(order.Select(i => x.Row(i)));

        var output = layer.Forward(x).Output;
        var permutedOutput = layer.Forward(permuted).Output;
        Expect.Close(permutedOutput, Matrix<float>.Build.DenseOfRowVectors(order.Select(i => output.Row(i))), what: "permuted output");
    }

    [Fact]
    public void Under_a_causal_mask_changing_token_j_never_changes_outputs_before_j()
    {
        var layer = new MultiHeadAttention(8, 4, seed: 5);
        var x = RandomMatrices.Uniform(6, 8, 6);
        var before = layer.Forward(x, AttentionMask.Causal).Output;
        for (var j = 0; j < 6; j++)
        {
            var changed = x.Clone();
            changed.SetRow(j, changed.Row(j) * -3.0f + 1.0f);
            var after = layer.Forward(changed, AttentionMask.Causal).Output;
            for (var i = 0; i < j; i++)
            {
                after.Row(i).Should().Equal(before.Row(i), $"output {i} cannot see token {j}");
            }
            after.Row(j).Should().NotEqual(before.Row(j));
        }
    }

    [Fact]
    public void Swapping_two_heads_parameter_slices_swaps_their_weight_maps()
    {
        var (layer, torch) = Load("mha_self_e16_h4.json", 4);
        var state = layer.ToStateDict();
        // Head h owns rows h·4 … h·4+3 of each of W_Q, W_K, W_V inside in_proj_weight (and of the biases).
        // Swap heads 1 and 3: rows 4–7 ↔ 12–15 in each 16-row block.
        var inProj = state["in_proj_weight"];
        var inBias = state["in_proj_bias"];
        foreach (var block in new[] { 0, 16, 32 })
        {
            for (var r = 0; r < 4; r++)
            {
                SwapRows(inProj, block + 4 + r, block + 12 + r);
                SwapColumns(inBias, block + 4 + r, block + 12 + r);
            }
        }
        var swapped = MultiHeadAttention.FromStateDict(state, 4);
        var x = torch.Matrix("query");
        var original = layer.Forward(x).HeadWeights!;
        var result = swapped.Forward(x).HeadWeights!;

        Expect.Close(result[1], original[3], what: "new head 1 = old head 3");
        Expect.Close(result[3], original[1], what: "new head 3 = old head 1");
        Expect.Close(result[0], original[0], what: "head 0 unchanged");
    }

    private static void SwapRows(Matrix<float> m, int a, int b)
    {
        var row = m.Row(a);
        m.SetRow(a, m.Row(b));
        m.SetRow(b, row);
    }

    private static void SwapColumns(Matrix<float> m, int a, int b)
    {
        var column = m.Column(a);
        m.SetColumn(a, m.Column(b));
        m.SetColumn(b, column);
    }

    [Fact]
    public void A_model_dimension_not_divisible_by_the_head_count_is_refused()
    {
        var build = () => new MultiHeadAttention(10, 3, seed: 0);
        build.Should().Throw<ArgumentException>().WithParameterName("headCount").WithMessage("*d_model = 10*h = 3*");
    }

    [Fact]
    public void A_mask_of_the_wrong_length_names_both_shapes()
    {
        var layer = new MultiHeadAttention(8, 2, seed: 0);
        var forward = () => layer.Forward(RandomMatrices.Uniform(5, 8, 1), AttentionMask.KeyPadding([false, false, true, true]));
        forward.Should().Throw<ArgumentException>().WithParameterName("mask").WithMessage("*[any × 4]*[5 × 5]*");
    }

    [Fact]
    public void Keys_and_values_of_different_lengths_name_both_shapes()
    {
        var layer = new MultiHeadAttention(8, 2, seed: 0);
        var forward = () => layer.Forward(RandomMatrices.Uniform(3, 8, 1), RandomMatrices.Uniform(5, 8, 2), RandomMatrices.Uniform(4, 8, 3));
        forward.Should().Throw<ArgumentException>().WithParameterName("value").WithMessage("*[5 × 8]*[4 × 8]*");
    }

    [Fact]
    public void Inputs_of_the_wrong_width_name_both_shapes()
    {
        var layer = new MultiHeadAttention(8, 2, seed: 0);
        var forward = () => layer.Forward(RandomMatrices.Uniform(3, 7, 1));
        forward.Should().Throw<ArgumentException>().WithParameterName("query").WithMessage("*8 columns*[8 × 8]*[3 × 7]*");
    }

    [Fact]
    public void Loading_a_missing_parameter_names_it()
    {
        var state = new MultiHeadAttention(8, 2, seed: 0).ToStateDict();
        state.Remove("in_proj_bias");
        state.Remove("out_proj.weight");
        var load = () => MultiHeadAttention.FromStateDict(state, 2);
        load.Should().Throw<ArgumentException>().WithMessage("*'out_proj.weight'*missing*");
    }

    [Fact]
    public void Loading_a_parameter_of_the_wrong_shape_names_it_and_both_shapes()
    {
        var state = new MultiHeadAttention(8, 2, seed: 0).ToStateDict();
        state["in_proj_weight"] = Matrix<float>.Build.Dense(24, 7);
        var load = () => MultiHeadAttention.FromStateDict(state, 2);
        load.Should().Throw<ArgumentException>().WithMessage("*'in_proj_weight'*[24 × 8]*[24 × 7]*");

        state = new MultiHeadAttention(8, 2, seed: 0).ToStateDict();
        state["out_proj.bias"] = Matrix<float>.Build.Dense(1, 9);
        load.Should().Throw<ArgumentException>().WithMessage("*'out_proj.bias'*[8]*[1 × 9]*");
    }
}
