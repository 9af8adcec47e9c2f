using Attention.Layers;
using Attention.Mechanisms;
using Attention.Randomness;
using Attention.Tests.Support;
using Attention.Transformers;
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Tests.Transformers;

/// <summary>
/// Encoder and decoder layers and the full stacks against nn.TransformerEncoderLayer, nn.TransformerDecoderLayer and
/// nn.Transformer 1.13 (d_model 16, h 4, d_ff 32, dropout 0, non-zero biases and LayerNorm gains), fixtures from
/// tools/reference/generate.py. Tolerance 1e-5 relative plus 1e-6 absolute, also through the stacked layers.
/// </summary>
public class EncoderDecoderTests
{
    private static TransformerOptions Options(string tag) => TransformerOptions.Small(10, 10) with
    {
        NormFirst = tag == "pre_norm",
        Activation = tag == "gelu" ? Activation.Gelu : Activation.ReLU,
    };

    [Theory]
    [InlineData("post_relu")]
    [InlineData("pre_norm")]
    [InlineData("gelu")]
    public void An_encoder_layer_equals_PyTorchs_with_padded_source_tokens(string tag)
    {
        var torch = Fixture.Load($"encoder_layer_{tag}.json");
        var layer = EncoderLayer.FromStateDict(torch.State(), "", Options(tag), new TorchGenerator(0));
        var output = layer.Forward(torch.Matrix("src"), AttentionMask.KeyPadding(keyCount: 6, length: 4));
        Expect.Close(output, torch.Matrix("output"), what: $"encoder layer ({tag})");
    }

    [Theory]
    [InlineData("post_relu")]
    [InlineData("pre_norm")]
    [InlineData("gelu")]
    public void A_decoder_layer_equals_PyTorchs_under_a_causal_mask_with_padded_memory(string tag)
    {
        var torch = Fixture.Load($"decoder_layer_{tag}.json");
        var layer = DecoderLayer.FromStateDict(torch.State(), "", Options(tag), new TorchGenerator(0));
        var output = layer.Forward(torch.Matrix("tgt"), torch.Matrix("memory"), AttentionMask.Causal, AttentionMask.KeyPadding(keyCount: 7, length: 6));
        Expect.Close(output, torch.Matrix("output"), what: $"decoder layer ({tag})");
    }

    [Fact]
    public void The_full_nn_Transformer_with_2_plus_2_layers_and_final_norms_equals_PyTorch()
    {
        var torch = Fixture.Load("transformer_2x2.json");
        var state = torch.State();
        var options = TransformerOptions.Small(10, 10);
        var encoder = TransformerEncoder.FromStateDict(state, "encoder.", options, new TorchGenerator(0));
        var decoder = TransformerDecoder.FromStateDict(state, "decoder.", options, new TorchGenerator(0));

        var memory = encoder.Forward(torch.Matrix("src"));
        Expect.Close(memory, torch.Matrix("memory"), what: "encoder output (memory)");
        Expect.Close(decoder.Forward(torch.Matrix("tgt"), memory, AttentionMask.Causal), torch.Matrix("output"), what: "decoder output");
    }

    [Fact]
    public void Pre_norm_and_post_norm_differ_so_the_switch_is_real()
    {
        var torch = Fixture.Load("encoder_layer_pre_norm.json");
        var post = EncoderLayer.FromStateDict(torch.State(), "", Options("post_relu"), new TorchGenerator(0));
        var difference = (post.Forward(torch.Matrix("src")) - torch.Matrix("output")).Enumerate().Max(Math.Abs);
        difference.Should().BeGreaterThan(1e-2f);
    }

    [Fact]
    public void Loaded_layers_write_back_the_same_names_and_values()
    {
        var torch = Fixture.Load("transformer_2x2.json");
        var options = TransformerOptions.Small(10, 10);
        var state = new Dictionary<string, Matrix<float>>();
        TransformerEncoder.FromStateDict(torch.State(), "encoder.", options, new TorchGenerator(0)).AddTo(state, "encoder.");
        TransformerDecoder.FromStateDict(torch.State(), "decoder.", options, new TorchGenerator(0)).AddTo(state, "decoder.");
        state.Keys.Should().BeEquivalentTo(torch.State().Keys);
        foreach (var (name, value) in torch.State())
        {
            state[name].Should().Be(value, name);
        }
    }

    [Fact]
    public void A_model_dimension_that_differs_from_the_weights_names_the_parameter()
    {
        var torch = Fixture.Load("encoder_layer_post_relu.json");
        var load = () => EncoderLayer.FromStateDict(torch.State(), "", TransformerOptions.Small(10, 10) with { ModelDim = 32, HeadCount = 4 }, new TorchGenerator(0));
        load.Should().Throw<ArgumentException>().WithMessage("*self_attn.out_proj.weight*16*32*");
    }
}
