using Attention.Layers;
using Attention.Mechanisms;
using Attention.Randomness;
using Attention.Tests.Support;
using Attention.Training;
using Attention.Transformers;
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Tests.Training;

/// <summary>One list of parameters for optimizers, clipping and checkpoints: PyTorch's names and order, parameter groups,
/// freezing and <c>padding_idx</c>.</summary>
public class ParameterTests
{
    private static readonly TransformerOptions OneAndOne = TransformerOptions.Small(7, 9) with { ModelDim = 8, HeadCount = 2, FeedForwardDim = 12, EncoderLayers = 1, DecoderLayers = 1 };

    [Fact]
    public void The_named_parameters_follow_nn_Transformers_state_dict_order()
    {
        var model = new Transformer(OneAndOne, new TorchGenerator(1));
        // The order in which nn.TransformerEncoderLayer / nn.TransformerDecoderLayer register their modules (self_attn,
        // [multihead_attn,] linear1, linear2, norm1, norm2[, norm3]); in_proj_weight's three slices are one tensor there.
        string[] attention = ["in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"];
        string[] feedForward = ["linear1.weight", "linear1.bias", "linear2.weight", "linear2.bias"];
        var expected = new List<string> { "source_embedding.weight", "target_embedding.weight" };
        expected.AddRange(attention.Select(a => "encoder.layers.0.self_attn." + a));
        expected.AddRange(feedForward.Select(f => "encoder.layers.0." + f));
        expected.AddRange(["encoder.layers.0.norm1.weight", "encoder.layers.0.norm1.bias", "encoder.layers.0.norm2.weight", "encoder.layers.0.norm2.bias",
                           "encoder.norm.weight", "encoder.norm.bias"]);
        expected.AddRange(attention.Select(a => "decoder.layers.0.self_attn." + a));
        expected.AddRange(attention.Select(a => "decoder.layers.0.multihead_attn." + a));
        expected.AddRange(feedForward.Select(f => "decoder.layers.0." + f));
        expected.AddRange(new[] { "norm1", "norm2", "norm3" }.SelectMany(n => new[] { $"decoder.layers.0.{n}.weight", $"decoder.layers.0.{n}.bias" }));
        expected.AddRange(["decoder.norm.weight", "decoder.norm.bias", "lm_head.weight", "lm_head.bias"]);

        var tensors = model.NamedParameters().Select(p => p.Name.Split('[')[0]).Distinct().ToList();

        tensors.Should().Equal(expected);
        tensors.Should().BeEquivalentTo(model.ToStateDict().Keys, "the state dict holds exactly these tensors");
    }

    [Fact]
    public void Each_slice_of_in_proj_weight_is_the_rows_it_names()
    {
        var model = new Transformer(OneAndOne, new TorchGenerator(2));
        var state = model.ToStateDict();
        var sliced = model.NamedParameters().Where(p => p.Name.Contains('[')).ToList();
        sliced.Should().HaveCount(3 * 2 * 3, "W_Q, W_K, W_V and their biases in three attentions");
        foreach (var (name, parameter) in sliced)
        {
            // "decoder.layers.0.multihead_attn.in_proj_weight[8:16]" is state["…in_proj_weight"][8:16] in Python
            var tensor = state[name[..name.IndexOf('[')]];
            var range = name[(name.IndexOf('[') + 1)..^1].Split(':').Select(int.Parse).ToArray();
            var expected = tensor.RowCount == 1
                ? tensor.SubMatrix(0, 1, range[0], range[1] - range[0])                   // in_proj_bias [1 × 3E]
                : tensor.SubMatrix(range[0], range[1] - range[0], 0, tensor.ColumnCount);  // in_proj_weight [3E × E]
            parameter.Value.Should().Be(expected, name);
        }
        model.Parameters().Sum(p => p.Value.RowCount * p.Value.ColumnCount).Should().Be(state.Values.Sum(m => m.RowCount * m.ColumnCount));
    }

    [Fact]
    public void A_tied_head_is_listed_once_and_kdim_attention_uses_PyTorchs_separate_names()
    {
        var tied = new Transformer(OneAndOne with { TieOutputToEmbedding = true, LearnedPositions = true }, new TorchGenerator(3));
        var names = tied.NamedParameters().Select(p => p.Name).ToList();
        names.Should().NotContain("lm_head.weight").And.Contain("lm_head.bias").And.Contain("positional_encoding.weight");
        tied.Parameters().Should().OnlyHaveUniqueItems();

        var cross = new MultiHeadAttention(8, 2, new TorchGenerator(4), keyDim: 5, valueDim: 3);
        cross.NamedParameters("a.").Select(p => p.Name).Should().Equal(
            "a.q_proj_weight", "a.k_proj_weight", "a.v_proj_weight", "a.in_proj_bias[0:8]", "a.in_proj_bias[8:16]", "a.in_proj_bias[16:24]", "a.out_proj.weight", "a.out_proj.bias");
    }

    [Fact]
    public void Biases_and_norms_are_vectors_and_stay_out_of_the_decayed_group()
    {
        var model = new Transformer(OneAndOne, new TorchGenerator(5));
        var groups = ParameterGroup.DecayMatricesOnly(model.NamedParameters().Select(p => p.Parameter), 0.1f);
        var vectors = model.NamedParameters().Where(p => p.Name.Contains("bias") || p.Name.Contains("norm")).Select(p => p.Parameter).ToList();
        groups[1].Parameters.Should().Equal(vectors);
        groups[1].WeightDecay.Should().Be(0);
        groups[0].Parameters.Should().OnlyContain(p => !p.IsVector).And.HaveCount(model.Parameters().Count - vectors.Count);
    }

    [Fact]
    public void AdamW_decays_only_the_groups_that_ask_for_it()
    {
        // Zero gradients: Adam's step is m / (√v + ε) = 0 / (0 + ε) = 0, so only the decoupled decay moves θ:
        // θ ← θ·(1 − lr·λ) = 2·(1 − 0.1·0.5) = 1.9 in the decayed group, 2 in the other, 2 when frozen.
        var (decayed, kept, frozen) = (Parameter("w", 2f), Parameter("b", 2f), Parameter("f", 2f));
        frozen.RequiresGradient = false;
        var optimizer = new AdamW([new ParameterGroup([decayed, frozen], weightDecay: 0.5f), new ParameterGroup([kept], weightDecay: 0)], learningRate: 0.1f);
        optimizer.Step();
        decayed.Value[0, 0].Should().Be(1.9f);
        kept.Value[0, 0].Should().Be(2f);
        frozen.Value[0, 0].Should().Be(2f);
        optimizer.WeightDecayOf(0).Should().Be(0.5f);

        var sgd = new Sgd([new ParameterGroup([kept]), new ParameterGroup([decayed], weightDecay: 0)], learningRate: 0.1f, weightDecay: 1f);
        sgd.Step();                       // d = g + λ·θ: θ − lr·λ·θ = 2 − 0.1·1·2 = 1.8 for the group without its own λ
        kept.Value[0, 0].Should().Be(1.8f);
        decayed.Value[0, 0].Should().Be(1.9f);
    }

    [Fact]
    public void A_parameter_in_two_groups_is_refused()
    {
        var p = Parameter("p", 1f);
        var act = () => new Adam([new ParameterGroup([p]), new ParameterGroup([p], 0)], 0.1f);
        act.Should().Throw<ArgumentException>().WithMessage("*given twice*");
    }

    [Fact]
    public void The_padding_row_starts_at_zero_and_never_gets_a_gradient()
    {
        var embedding = new Embedding(5, 3, new TorchGenerator(6), paddingIndex: 0);
        embedding.Weight.Row(0).Enumerate().Should().OnlyContain(v => v == 0f);
        embedding.Weight.Row(1).Enumerate().Should().Contain(v => v != 0f);
        embedding.Backward([0, 2, 0], Matrix<float>.Build.Dense(3, 3, 1f));
        embedding.WeightParameter.Gradient.Row(0).Enumerate().Should().OnlyContain(g => g == 0f, "PyTorch: padding_idx gets no gradient");
        embedding.WeightParameter.Gradient.Row(2).Enumerate().Should().OnlyContain(g => g == 1f);

        var model = new Transformer(OneAndOne with { PaddingIndex = 0 }, new TorchGenerator(7));
        model.SourceEmbedding.PaddingIndex.Should().Be(0);
        model.TargetEmbedding.Weight.Row(0).Enumerate().Should().OnlyContain(v => v == 0f);
        var badOptions = () => new Transformer(OneAndOne with { PaddingIndex = 7 }, new TorchGenerator(7));
        badOptions.Should().Throw<ArgumentException>().WithMessage("*PaddingIndex 7*source 7, target 9*");
    }

    private static Parameter Parameter(string name, float value) => new(name, Matrix<float>.Build.Dense(1, 1, value));
}
