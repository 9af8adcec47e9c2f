using Attention.Serialization;
using Attention.Mechanisms;
using Attention.Randomness;
using Attention.Tests.Support;
using Attention.Transformers;
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Tests.Transformers;

public class TransformerTests
{
    private static readonly TransformerOptions Options = TransformerOptions.Small(sourceVocabularySize: 12, targetVocabularySize: 9);

    private static Transformer NewModel(TransformerOptions? options = null) => new(options ?? Options, new TorchGenerator(5));

    [Fact]
    public void The_paper_defaults_are_the_base_model()
    {
        var paper = new TransformerOptions();
        (paper.ModelDim, paper.HeadCount, paper.FeedForwardDim, paper.EncoderLayers, paper.DecoderLayers, paper.Dropout, paper.HeadDim)
            .Should().Be((512, 8, 2048, 6, 6, 0.1f, 64));
        paper.NormFirst.Should().BeFalse("the paper normalises after the residual sum");
        paper.ScaleEmbeddings.Should().BeTrue();
    }

    [Fact]
    public void Forward_gives_one_row_of_logits_per_target_token()
    {
        var logits = NewModel().Forward([1, 4, 7, 2], [2, 5, 6]);
        (logits.RowCount, logits.ColumnCount).Should().Be((3, 9));
    }

    [Fact]
    public void Embeddings_are_scaled_by_the_square_root_of_d_model_before_positions_are_added()
    {
        var model = NewModel();
        var expected = model.SourceEmbedding.Forward([3]) * 4.0f + new Attention.Layers.SinusoidalPositionalEncoding(16, 64).Encode(1); // √16 = 4
        model.Embed(model.SourceEmbedding, [3]).Should().Be(expected);
        var unscaled = NewModel(Options with { ScaleEmbeddings = false });
        unscaled.Embed(unscaled.SourceEmbedding, [3]).Should().Be(unscaled.SourceEmbedding.Forward([3]) + new Attention.Layers.SinusoidalPositionalEncoding(16, 64).Encode(1));
    }

    [Fact]
    public void Changing_a_later_target_token_never_changes_earlier_logits()
    {
        var model = NewModel();
        var before = model.Forward([1, 2, 3], [2, 4, 5, 6]);
        var after = model.Forward([1, 2, 3], [2, 4, 8, 6]);
        after.SubMatrix(0, 2, 0, 9).Should().Be(before.SubMatrix(0, 2, 0, 9));
        after.Row(2).Should().NotEqual(before.Row(2));
    }

    [Fact]
    public void The_state_dict_uses_nn_Transformer_names_and_round_trips()
    {
        var model = NewModel();
        var state = model.ToStateDict();
        state.Keys.Should().Contain(["encoder.layers.0.self_attn.in_proj_weight", "decoder.layers.1.multihead_attn.out_proj.bias",
            "encoder.norm.weight", "decoder.norm.bias", "decoder.layers.0.norm3.weight", "source_embedding.weight", "lm_head.weight"]);
        var copy = Transformer.FromStateDict(state, Options);
        copy.Forward([1, 2, 3], [2, 4]).Should().Be(model.Forward([1, 2, 3], [2, 4]));
    }

    [Fact]
    public void A_model_saved_as_safetensors_loads_back_equal()
    {
        var model = NewModel(Options with { LearnedPositions = true });
        var path = Path.Combine(Path.GetTempPath(), $"attention-{Guid.NewGuid():N}.safetensors");
        try
        {
            model.Save(path);
            var loaded = Transformer.Load(path, Options with { LearnedPositions = true });
            loaded.Forward([1, 2, 3], [2, 4]).Should().Be(model.Forward([1, 2, 3], [2, 4]));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_saved_model_describes_itself_so_the_path_is_all_Load_needs()
    {
        var options = Options with { LearnedPositions = true, TieOutputToEmbedding = true, Activation = Attention.Layers.Activation.Gelu };
        var model = NewModel(options);
        var tokenizer = Attention.Tokenization.BytePairTokenizer.Train(["안녕하세요, 만나서 반가워요", "hey, good to know you"], 270);
        var path = Path.Combine(Path.GetTempPath(), $"attention-{Guid.NewGuid():N}.safetensors");
        try
        {
            model.Save(path, new Dictionary<string, string> { ["attention.tokenizer"] = tokenizer.ToJson() });
            var loaded = Transformer.Load(path);
            loaded.Options.Should().Be(options);
            loaded.Forward([1, 2, 3], [2, 4]).Should().Be(model.Forward([1, 2, 3], [2, 4]));
            var metadata = SafeTensors.ReadWithMetadata(path).Metadata;
            metadata["format"].Should().Be("pt", "Python's safetensors reads it as PyTorch tensors");
            metadata[Transformer.FormatKey].Should().Be("1");
            Attention.Tokenization.BytePairTokenizer.FromJson(metadata["attention.tokenizer"]).Vocabulary.Tokens.Should().Equal(tokenizer.Vocabulary.Tokens);

            var other = () => Transformer.Load(path, options with { TargetVocabularySize = 40, ModelDim = 32 });
            other.Should().Throw<InvalidDataException>().WithMessage("*other options*ModelDim: 16 → 32*TargetVocabularySize: 9 → 40*");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_file_without_options_asks_for_them()
    {
        var path = Path.Combine(Path.GetTempPath(), $"attention-{Guid.NewGuid():N}.safetensors");
        try
        {
            SafeTensors.Write(path, NewModel().ToStateDict());
            var load = () => Transformer.Load(path);
            load.Should().Throw<InvalidDataException>().WithMessage("*no 'attention.options'*Transformer.Load(path, options)*");
            Transformer.Load(path, Options).Forward([1, 2], [3]).Should().Be(NewModel().Forward([1, 2], [3]));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_tied_LM_head_is_the_target_embedding_itself()
    {
        var model = NewModel(Options with { TieOutputToEmbedding = true });
        model.LmHead.Weight.Should().BeSameAs(model.TargetEmbedding.Weight);
        model.ToStateDict().Should().NotContainKey("lm_head.weight");
        var copy = Transformer.FromStateDict(model.ToStateDict(), Options with { TieOutputToEmbedding = true });
        copy.LmHead.Weight.Should().BeSameAs(copy.TargetEmbedding.Weight);
    }

    [Fact]
    public void Weights_for_another_d_model_name_the_parameter_and_both_shapes()
    {
        var state = NewModel().ToStateDict();
        var load = () => Transformer.FromStateDict(state, Options with { ModelDim = 32 });
        load.Should().Throw<ArgumentException>().WithMessage("*'target_embedding.weight'*[9 × 32]*[9 × 16]*");
    }

    [Fact]
    public void A_token_id_outside_the_vocabulary_names_the_id_and_the_size()
    {
        var forward = () => NewModel().Forward([1, 12], [2]);
        forward.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*12*12 tokens*");
    }

    [Fact]
    public void A_source_longer_than_the_positional_table_is_a_clear_error()
    {
        var encode = () => NewModel().Encode(Enumerable.Repeat(1, 65).ToArray());
        encode.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*65 positions*64 in all*");
    }

    [Fact]
    public void Dropout_changes_outputs_only_in_training_mode()
    {
        var model = NewModel(Options with { Dropout = 0.5f });
        var evaluation = model.Forward([1, 2, 3], [2, 4]);
        model.Forward([1, 2, 3], [2, 4]).Should().Be(evaluation, "evaluation is deterministic");
        model.SetTraining(true);
        model.Forward([1, 2, 3], [2, 4]).Should().NotBe(evaluation);
        model.SetTraining(false);
        model.Forward([1, 2, 3], [2, 4]).Should().Be(evaluation);
    }
}
