using Attention.Layers;
using Attention.Mechanisms;
using Attention.Randomness;
using Attention.Tests.Support;
using Attention.Transformers;
using Attention.Training;
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Tests.Training;

/// <summary>The decoder layer's backward pass, post-norm and pre-norm, against torch.autograd on
/// <c>nn.TransformerDecoderLayer(d_model 8, nhead 2, dim_feedforward 16)</c>: 4 target tokens under a causal mask, a memory
/// of 6 tokens whose last one is padded.</summary>
public class DecoderLayerBackwardTests
{
    [Theory]
    [InlineData("post", false)]
    [InlineData("pre", true)]
    public void Every_gradient_equals_PyTorchs(string tag, bool normFirst)
    {
        var torch = Fixture.Load($"decoder_layer_backward_{tag}.json");
        var options = TransformerOptions.Small(4, 4) with { ModelDim = 8, HeadCount = 2, FeedForwardDim = 16, NormFirst = normFirst };
        var layer = DecoderLayer.FromStateDict(torch.State(), "", options, new TorchGenerator(0));
        var record = layer.ForwardRecorded(torch.Matrix("tgt"), torch.Matrix("memory"), AttentionMask.Causal, AttentionMask.KeyPadding(keyCount: 6, length: 5));
        Expect.Close(record.Output, torch.Matrix("output"), what: "the recorded forward");
        var (dx, dMemory) = layer.Backward(record, torch.Matrix("dy"));

        Expect.Close(dx, torch.Matrix("dtgt"), what: "∂L/∂target");
        Expect.Close(dMemory, torch.Matrix("dmemory"), what: "∂L/∂memory");
        foreach (var (prefix, attention) in new[] { ("self_attn.", layer.SelfAttention), ("multihead_attn.", layer.CrossAttention) })
        {
            Expect.Close(InProjection(attention, l => l.WeightParameter), torch.Matrix($"grad:{prefix}in_proj_weight"), what: prefix + "in_proj_weight");
            Expect.Close(InProjection(attention, l => l.BiasParameter!), torch.Row($"grad:{prefix}in_proj_bias"), what: prefix + "in_proj_bias");
            foreach (var (name, parameter) in attention.OutputProjection.NamedParameters(prefix + "out_proj."))
            {
                Expect.Close(parameter.Gradient, Expected(torch, name), what: name);
            }
        }
        var rest = layer.FeedForward.NamedParameters()
            .Concat(layer.Norm1.NamedParameters("norm1.")).Concat(layer.Norm2.NamedParameters("norm2.")).Concat(layer.Norm3.NamedParameters("norm3."));
        foreach (var (name, parameter) in rest)
        {
            Expect.Close(parameter.Gradient, Expected(torch, name), what: name);
        }
    }

    /// <summary>W_Q, W_K, W_V's gradients stacked as PyTorch's in_proj tensors ([3E × E], or [1 × 3E] for the biases).</summary>
    private static Matrix<float> InProjection(MultiHeadAttention attention, Func<Linear, Parameter> parameter)
    {
        var (q, k, v) = (parameter(attention.QueryProjection).Gradient, parameter(attention.KeyProjection).Gradient, parameter(attention.ValueProjection).Gradient);
        return q.RowCount == 1 ? q.Append(k).Append(v) : q.Stack(k).Stack(v);
    }

    private static Matrix<float> Expected(Fixture torch, string name) =>
        torch.Shape($"grad:{name}").Length == 1 ? torch.Row($"grad:{name}") : torch.Matrix($"grad:{name}");
}
