using Attention.Mechanisms;
using Attention.Randomness;
using Attention.Serialization;
using Attention.Transformers;
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Tests.BadInput;

/// <summary>Loading is strict by default, as PyTorch's <c>load_state_dict(strict=True)</c>: every parameter the model has
/// must be in the checkpoint and every tensor in the checkpoint must be a parameter of the model; both lists are named.</summary>
public class StrictCheckpointTests
{
    private static readonly TransformerOptions Options = TransformerOptions.Small(sourceVocabularySize: 12, targetVocabularySize: 9);

    private static Dictionary<string, Matrix<float>> StateOf(TransformerOptions options) =>
        new Transformer(options, new TorchGenerator(5)).ToStateDict();

    [Fact]
    public void A_deeper_checkpoint_does_not_load_silently_into_a_shallower_model()
    {
        var deeper = StateOf(Options with { EncoderLayers = 3, DecoderLayers = 3 });
        var load = () => Transformer.FromStateDict(deeper, Options);
        load.Should().Throw<ArgumentException>().WithParameterName("state")
            .WithMessage("*unexpected 30*decoder.layers.2.*encoder.layers.2.self_attn.in_proj_weight*");
    }

    [Fact]
    public void Missing_and_unexpected_keys_are_both_listed()
    {
        var state = StateOf(Options);
        state.Remove("decoder.layers.1.norm3.bias");
        state.Remove("encoder.norm.weight");
        state["encoder.extra"] = Matrix<float>.Build.Dense(1, 1);
        var load = () => Transformer.FromStateDict(state, Options);
        load.Should().Throw<ArgumentException>()
            .WithMessage("*missing*decoder.layers.1.norm3.bias*encoder.norm.weight*unexpected*encoder.extra*");
    }

    [Fact]
    public void Without_a_final_norm_the_checkpoints_final_norm_is_unexpected()
    {
        var load = () => Transformer.FromStateDict(StateOf(Options), Options with { FinalNorm = false });
        load.Should().Throw<ArgumentException>().WithMessage("*unexpected*encoder.norm.bias*");
    }

    [Fact]
    public void A_tied_model_takes_an_lm_head_equal_to_the_embedding_and_refuses_one_that_differs()
    {
        var tied = Options with { TieOutputToEmbedding = true };
        var state = StateOf(tied);
        state["lm_head.weight"] = state["target_embedding.weight"].Clone();        // PyTorch writes both names
        Transformer.FromStateDict(state, tied).LmHead.Weight.Should().Be(state["target_embedding.weight"]);

        var untied = StateOf(Options);                                                // its lm_head is its own
        var load = () => Transformer.FromStateDict(untied, tied);
        load.Should().Throw<ArgumentException>().WithMessage("*lm_head.weight*target_embedding.weight*");
    }

    [Fact]
    public void A_file_with_a_stray_tensor_is_invalid_data()
    {
        var state = StateOf(Options);
        state["stray"] = Matrix<float>.Build.Dense(2, 2);
        var path = Path.Combine(Path.GetTempPath(), $"attention-{Guid.NewGuid():N}.safetensors");
        try
        {
            SafeTensors.Write(path, state);
            var load = () => Transformer.Load(path, Options);
            load.Should().Throw<InvalidDataException>().WithMessage("*unexpected*stray*");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Non_strict_loading_returns_both_lists_and_keeps_fresh_values_for_what_is_missing()
    {
        var state = StateOf(Options);
        var kept = state["encoder.layers.0.linear1.weight"];
        state.Remove("encoder.layers.0.linear1.weight");
        state["stray"] = Matrix<float>.Build.Dense(1, 1);
        var fresh = new Transformer(Options, new TorchGenerator(77));
        var result = Transformer.FromStateDictNonStrict(state, Options, new TorchGenerator(77));
        result.MissingKeys.Should().Equal("encoder.layers.0.linear1.weight");
        result.UnexpectedKeys.Should().Equal("stray");
        result.Model.Encoder.Layers[0].FeedForward.Linear1.Weight.Should().Be(fresh.Encoder.Layers[0].FeedForward.Linear1.Weight);
        result.Model.Encoder.Layers[0].FeedForward.Linear1.Weight.Should().NotBe(kept);
        result.Model.SourceEmbedding.Weight.Should().Be(state["source_embedding.weight"]);
    }

    [Fact]
    public void An_output_bias_without_input_biases_is_refused()
    {
        var state = new MultiHeadAttention(8, 2, new TorchGenerator(1), bias: false).ToStateDict();
        state["out_proj.bias"] = Matrix<float>.Build.Dense(1, 8);
        var load = () => MultiHeadAttention.FromStateDict(state, 2);
        load.Should().Throw<ArgumentException>().WithMessage("*out_proj.bias*in_proj_bias*");
    }
}
