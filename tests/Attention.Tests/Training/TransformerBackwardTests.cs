using System.Text.Json;
using Attention.Layers;
using Attention.Mechanisms;
using Attention.Randomness;
using Attention.Tests.Support;
using Attention.Transformers;
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Tests.Training;

/// <summary>Gradients through the encoder and decoder stacks of <c>nn.Transformer</c> (2 + 2 layers, final norms, a padded
/// source, a causal target): the decoder's memory gradient flows back into the encoder, and every one of the model's
/// parameters gets PyTorch's gradient.</summary>
public class TransformerBackwardTests
{
    private static readonly Fixture Torch = Fixture.Load("transformer_backward.json");

    [Fact]
    public void Every_parameter_of_the_encoder_decoder_stacks_gets_PyTorchs_gradient()
    {
        var options = TransformerOptions.Small(4, 4) with { ModelDim = 8, HeadCount = 2, FeedForwardDim = 16 };
        var state = Torch.State();
        var encoder = TransformerEncoder.FromStateDict(state, "encoder.", options, new TorchGenerator(0));
        var decoder = TransformerDecoder.FromStateDict(state, "decoder.", options, new TorchGenerator(0));
        var padding = AttentionMask.KeyPadding(keyCount: 6, length: 5);

        var encoded = encoder.ForwardRecorded(Torch.Matrix("src"), padding);
        var decoded = decoder.ForwardRecorded(Torch.Matrix("tgt"), encoded.Output, AttentionMask.Causal, padding);
        Expect.Close(decoded.Output, Torch.Matrix("output"), what: "the recorded forward");
        var (dTarget, dMemory) = decoder.Backward(decoded, Torch.Matrix("dy"));
        var dSource = encoder.Backward(encoded, dMemory);

        Expect.Close(dTarget, Torch.Matrix("dtgt"), what: "∂L/∂target");
        Expect.Close(dSource, Torch.Matrix("dsrc"), what: "∂L/∂source, through the memory");
        var names = GradientNames();
        names.Should().HaveCount(64, "2 encoder layers of 12 tensors, 2 decoder layers of 18, two final norms of 2");
        foreach (var name in names)
        {
            var expected = Torch.Shape($"grad:{name}").Length == 1 ? Torch.Row($"grad:{name}") : Torch.Matrix($"grad:{name}");
            Expect.Close(Gradient(encoder, decoder, name), expected, what: name);
        }
    }

    private static List<string> GradientNames()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Fixtures", "transformer_backward.json");
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        return [.. document.RootElement.GetProperty("tensors").EnumerateObject().Select(t => t.Name).Where(n => n.StartsWith("grad:", StringComparison.Ordinal)).Select(n => n[5..])];
    }

    /// <summary>Our gradient for one of PyTorch's parameter names (in_proj tensors stack W_Q, W_K, W_V's).</summary>
    private static Matrix<float> Gradient(TransformerEncoder encoder, TransformerDecoder decoder, string name)
    {
        var parts = name.Split('.');
        var isEncoder = parts[0] == "encoder";
        if (parts[1] == "norm")
        {
            var norm = (isEncoder ? encoder.Norm : decoder.Norm)!;
            return (parts[2] == "weight" ? norm.GainParameter : norm.BiasParameter).Gradient;
        }
        var index = int.Parse(parts[2], System.Globalization.CultureInfo.InvariantCulture);
        var rest = string.Join('.', parts[3..]);
        var (self, cross, feedForward, norms) = isEncoder
            ? (encoder.Layers[index].SelfAttention, null, encoder.Layers[index].FeedForward, new[] { encoder.Layers[index].Norm1, encoder.Layers[index].Norm2 })
            : (decoder.Layers[index].SelfAttention, decoder.Layers[index].CrossAttention, decoder.Layers[index].FeedForward,
               new[] { decoder.Layers[index].Norm1, decoder.Layers[index].Norm2, decoder.Layers[index].Norm3 });
        var attention = parts[3] == "self_attn" ? self : cross!;
        return rest switch
        {
            _ when rest.EndsWith("in_proj_weight", StringComparison.Ordinal) =>
                attention.QueryProjection.WeightParameter.Gradient.Stack(attention.KeyProjection.WeightParameter.Gradient).Stack(attention.ValueProjection.WeightParameter.Gradient),
            _ when rest.EndsWith("in_proj_bias", StringComparison.Ordinal) =>
                attention.QueryProjection.BiasParameter!.Gradient.Append(attention.KeyProjection.BiasParameter!.Gradient).Append(attention.ValueProjection.BiasParameter!.Gradient),
            _ when rest.EndsWith("out_proj.weight", StringComparison.Ordinal) => attention.OutputProjection.WeightParameter.Gradient,
            _ when rest.EndsWith("out_proj.bias", StringComparison.Ordinal) => attention.OutputProjection.BiasParameter!.Gradient,
            _ when rest.StartsWith("linear", StringComparison.Ordinal) =>
                feedForward.NamedParameters().Single(p => p.Name == rest).Parameter.Gradient,
            _ => Norm(norms[rest[4] - '1'], parts[^1]),
        };
    }

    private static Matrix<float> Norm(LayerNorm norm, string which) => (which == "weight" ? norm.GainParameter : norm.BiasParameter).Gradient;
}
