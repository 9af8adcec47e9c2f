using Attention.Mechanisms;
using Attention.Randomness;
using Attention.Tests.Support;
using Attention.Transformers;
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Tests.Training;

/// <summary>The encoder layer's backward pass, post-norm and pre-norm, against torch.autograd on
/// <c>nn.TransformerEncoderLayer(d_model 8, nhead 2, dim_feedforward 16)</c> with a padded token and perturbed biases and gains.</summary>
public class EncoderLayerBackwardTests
{
    [Theory]
    [InlineData("post", false)]
    [InlineData("pre", true)]
    public void Every_gradient_equals_PyTorchs(string tag, bool normFirst)
    {
        var torch = Fixture.Load($"encoder_layer_backward_{tag}.json");
        var options = TransformerOptions.Small(4, 4) with { ModelDim = 8, HeadCount = 2, FeedForwardDim = 16, NormFirst = normFirst };
        var layer = EncoderLayer.FromStateDict(torch.State(), "", options, new TorchGenerator(0));
        var record = layer.ForwardRecorded(torch.Matrix("src"), AttentionMask.KeyPadding(keyCount: 5, length: 4));
        Expect.Close(record.Output, torch.Matrix("output"), what: "the recorded forward");
        var dx = layer.Backward(record, torch.Matrix("dy"));

        Expect.Close(dx, torch.Matrix("dsrc"), what: "∂L/∂x");
        var attention = layer.SelfAttention;
        Expect.Close(attention.QueryProjection.WeightParameter.Gradient.Stack(attention.KeyProjection.WeightParameter.Gradient).Stack(attention.ValueProjection.WeightParameter.Gradient),
            torch.Matrix("grad:self_attn.in_proj_weight"), what: "in_proj_weight");
        // ∂L/∂b_K is exactly 0 (a constant on every key's score cancels in the softmax); PyTorch leaves noise near 1e-8.
        Expect.Close(attention.QueryProjection.BiasParameter!.Gradient.Append(attention.KeyProjection.BiasParameter!.Gradient).Append(attention.ValueProjection.BiasParameter!.Gradient),
            torch.Row("grad:self_attn.in_proj_bias"), what: "in_proj_bias");
        var named = layer.SelfAttention.OutputProjection.NamedParameters("self_attn.out_proj.")
            .Concat(layer.FeedForward.NamedParameters())
            .Concat(layer.Norm1.NamedParameters("norm1."))
            .Concat(layer.Norm2.NamedParameters("norm2."));
        foreach (var (name, parameter) in named)
        {
            var expected = torch.Shape($"grad:{name}").Length == 1 ? torch.Row($"grad:{name}") : torch.Matrix($"grad:{name}");
            Expect.Close(parameter.Gradient, expected, what: name);
        }
    }
}
