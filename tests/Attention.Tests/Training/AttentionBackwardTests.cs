using Attention.Mechanisms;
using Attention.Tests.Support;
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Tests.Training;

/// <summary>Attention's backward passes against torch.autograd: scaled dot-product attention with d_k ≠ d_v, n ≠ m and
/// padded keys, and nn.MultiheadAttention cross-attention with non-zero biases and key padding.</summary>
public class AttentionBackwardTests
{
    private static readonly Fixture Torch = Fixture.Load("attention_backward.json");

    [Fact]
    public void Scaled_dot_product_attention_gradients_equal_PyTorchs_and_padded_keys_get_none()
    {
        var (q, k, v) = (Torch.Matrix("q"), Torch.Matrix("k"), Torch.Matrix("v"));
        var mask = AttentionMask.KeyPadding(keyCount: 5, length: 3);
        var forward = ScaledDotProductAttention.Compute(q, k, v, mask);
        var gradients = ScaledDotProductAttention.Backward(q, k, v, forward.Weights, Torch.Matrix("d_out"));
        Expect.Close(gradients.Queries, Torch.Matrix("sdpa_dq"), what: "∂L/∂Q");
        Expect.Close(gradients.Keys, Torch.Matrix("sdpa_dk"), what: "∂L/∂K");
        Expect.Close(gradients.Values, Torch.Matrix("sdpa_dv"), what: "∂L/∂V");
        gradients.Keys.SubMatrix(3, 2, 0, 6).Enumerate().Should().OnlyContain(g => g == 0f, "padding keys are never looked at");
    }

    [Fact]
    public void Multi_head_cross_attention_gradients_equal_PyTorchs()
    {
        var state = new Dictionary<string, Matrix<float>>
        {
            ["in_proj_weight"] = Torch.Matrix("in_proj_weight"), ["in_proj_bias"] = Torch.Row("in_proj_bias"),
            ["out_proj.weight"] = Torch.Matrix("out_proj_weight"), ["out_proj.bias"] = Torch.Row("out_proj_bias"),
        };
        var attention = MultiHeadAttention.FromStateDict(state, headCount: 2);
        var (query, memory) = (Torch.Matrix("query"), Torch.Matrix("memory"));
        var record = attention.ForwardRecorded(query, memory, memory, AttentionMask.KeyPadding(keyCount: 5, length: 4));
        var gradients = attention.Backward(record, Torch.Matrix("d_mha"));

        Expect.Close(gradients.Queries, Torch.Matrix("mha_dquery"), what: "∂L/∂query");
        Expect.Close(gradients.Keys + gradients.Values, Torch.Matrix("mha_dmemory"), what: "∂L/∂memory (keys and values both read it)");
        // PyTorch's in_proj_weight stacks W_Q, W_K, W_V; ours are three layers, so their gradients stack the same way.
        var inProj = attention.QueryProjection.WeightParameter.Gradient.Stack(attention.KeyProjection.WeightParameter.Gradient).Stack(attention.ValueProjection.WeightParameter.Gradient);
        Expect.Close(inProj, Torch.Matrix("mha_din_proj_weight"), what: "∂L/∂in_proj_weight");
        var inBias = attention.QueryProjection.BiasParameter!.Gradient.Append(attention.KeyProjection.BiasParameter!.Gradient).Append(attention.ValueProjection.BiasParameter!.Gradient);
        // ∂L/∂b_K is exactly 0 (a constant added to every key's score cancels in the softmax); PyTorch computes it as
        // noise of about 1e-8, hence the absolute tolerance here.
        Expect.Close(inBias, Torch.Row("mha_din_proj_bias"), absolute: 1e-6f, what: "∂L/∂in_proj_bias");
        Expect.Close(attention.OutputProjection.WeightParameter.Gradient, Torch.Matrix("mha_dout_proj_weight"), what: "∂L/∂out_proj.weight");
        Expect.Close(attention.OutputProjection.BiasParameter!.Gradient, Torch.Row("mha_dout_proj_bias"), what: "∂L/∂out_proj.bias");
        Expect.Close(record.Output, attention.Forward(query, memory, memory, AttentionMask.KeyPadding(keyCount: 5, length: 4), needWeights: false).Output,
            what: "the recorded forward computes what Forward does");
    }
}
