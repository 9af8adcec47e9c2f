using Attention.Kernels;
using Attention.Layers;
using Attention.Mechanisms;
using Attention.Randomness;
using Attention.Transformers;
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Tests.BadInput;

/// <summary>Decoding never answers NaN, a cache knows what it was built for, and bad arguments get messages that say what is wrong.</summary>
public class DecodingInputTests
{
    private static readonly Transformer Model = new(TransformerOptions.Small(12, 9) with { MaxPositions = 20 }, new TorchGenerator(11));
    private static readonly int[] Source = [4, 7, 5, 9, 1];

    private static DecodingOptions Options(int max = 6, IReadOnlyCollection<int>? suppressed = null) =>
        new() { StartToken = 2, EndToken = null, MaxNewTokens = max, SuppressedTokens = suppressed ?? [] };

    [Fact]
    public void Suppressing_every_token_is_refused_before_decoding()
    {
        var act = () => new Decoding(Model).Greedy(Source, Options(suppressed: [.. Enumerable.Range(0, 9)]));
        act.Should().Throw<ArgumentException>().WithMessage("*9 target tokens*suppressed*");
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    [InlineData(-1.0f)]
    public void A_temperature_that_is_not_a_positive_number_is_refused(float temperature)
    {
        var act = () => new Decoding(Model).Sample(Source, Options(), new SamplingOptions(temperature), new TorchGenerator(1));
        act.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*positive finite*");
    }

    [Fact]
    public void Temperature_zero_points_to_greedy_decoding()
    {
        var act = () => new Decoding(Model).Sample(Source, Options(), new SamplingOptions(0.0f), new TorchGenerator(1));
        act.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*Greedy*");
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(0.0f)]
    [InlineData(1.5f)]
    public void A_top_p_outside_zero_to_one_is_refused(float topP)
    {
        var act = () => new Decoding(Model).Sample(Source, Options(), new SamplingOptions(TopP: topP), new TorchGenerator(1));
        act.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*TopP*(0, 1]*");
    }

    [Fact]
    public void Beam_search_returns_no_suppressed_token_and_refuses_a_beam_wider_than_the_choices()
    {
        int[] suppressed = [0, 1, 3, 4, 5, 6];                      // 3 of 9 tokens left: 2, 7 and 8
        var beams = new Decoding(Model).BeamSearch(Source, Options(suppressed: suppressed), beamWidth: 3);
        beams.SelectMany(b => b.Tokens).Should().OnlyContain(t => t == 2 || t == 7 || t == 8);
        beams.Should().OnlyContain(b => !double.IsNaN(b.Score));
        var tooWide = () => new Decoding(Model).BeamSearch(Source, Options(suppressed: suppressed), beamWidth: 4);
        tooWide.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*beam of 4*only 3*");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(21)]
    public void A_length_below_one_or_past_the_positional_table_is_refused_up_front(int newTokens)
    {
        var greedy = () => new Decoding(Model).Greedy(Source, Options(max: newTokens));
        var beam = () => new Decoding(Model).BeamSearch(Source, Options(max: newTokens), beamWidth: 2);
        greedy.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*DecodingOptions.MaxNewTokens*");
        beam.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*DecodingOptions.MaxNewTokens*");
        if (newTokens > 0)
        {
            greedy.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*TransformerOptions.MaxPositions*20*");
        }
    }

    [Fact]
    public void Logits_that_are_all_NaN_stop_decoding_with_a_clear_error()
    {
        var broken = new Transformer(TransformerOptions.Small(12, 9) with { MaxPositions = 20 }, new TorchGenerator(11));
        broken.LmHead.Bias![0] = float.NaN;
        var act = () => new Decoding(broken).Greedy(Source, Options());
        act.Should().Throw<InvalidOperationException>().WithMessage("*step 0*NaN*");
    }

    [Fact]
    public void A_cache_used_with_another_memory_or_another_decoder_is_refused()
    {
        var memory = Model.Encode(Source);
        var cache = Model.Decoder.CreateCache();
        Model.Decoder.ForwardWithCache(Model.Embed(Model.TargetEmbedding, [2]), memory, cache);
        var otherMemory = () => Model.Decoder.ForwardWithCache(Model.Embed(Model.TargetEmbedding, [5], 1), memory.Clone(), cache);
        otherMemory.Should().Throw<ArgumentException>().WithParameterName("memory").WithMessage("*another memory*");
        var other = new Transformer(TransformerOptions.Small(12, 9) with { MaxPositions = 20 }, new TorchGenerator(12));
        var otherDecoder = () => other.Decoder.ForwardWithCache(other.Embed(other.TargetEmbedding, [5], 1), memory, cache);
        otherDecoder.Should().Throw<ArgumentException>().WithParameterName("cache").WithMessage("*another decoder*");
    }

    [Fact]
    public void Null_arguments_and_overflowing_positions_get_clear_exceptions()
    {
        var nullQueries = () => ScaledDotProductAttention.Compute(null!, Matrix<float>.Build.Dense(2, 2), Matrix<float>.Build.Dense(2, 2));
        nullQueries.Should().Throw<ArgumentNullException>().WithParameterName("queries");
        var positions = new SinusoidalPositionalEncoding(8, maxPositions: 10);
        var overflow = () => positions.Forward(Matrix<float>.Build.Dense(3, 8), int.MaxValue - 1);
        overflow.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*3 positions*2147483646*0 to 9*");
    }

    [Fact]
    public void An_unknown_vector_width_in_the_environment_names_the_valid_ones()
    {
        var act = () => SimdDispatch.Parse("avx9000");
        act.Should().Throw<InvalidOperationException>().WithMessage("*avx9000*scalar, 128, 256 or 512*");
        SimdDispatch.Parse(" 256 ").Should().Be(SimdWidth.Vector256);
        SimdDispatch.Parse(null).Should().BeNull();
    }
}
