using Attention.Mechanisms;
using Attention.Randomness;
using Attention.Tests.Support;
using Attention.Transformers;
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Tests.Transformers;

/// <summary>The decoding loop, the KV cache and the choice rules, on a small untrained model (vocab 9; ids 2 and 3 play &lt;sos&gt; and &lt;eos&gt;).</summary>
public class DecodingTests
{
    private static readonly Transformer Model = new(TransformerOptions.Small(12, 9) with { MaxPositions = 128 }, new TorchGenerator(11));
    private static readonly int[] Source = [4, 7, 5, 9, 1];

    private static DecodingOptions Options(bool cache = true, int max = 12, int? end = null, bool record = false) =>
        new() { StartToken = 2, EndToken = end, MaxNewTokens = max, UseCache = cache, RecordAttention = record };

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(5)]
    [InlineData(17)]
    [InlineData(40)]
    public void The_cached_decoder_gives_the_last_rows_of_the_full_causal_decoder(int length)
    {
        var memory = Model.Encode(Source);
        var target = Enumerable.Range(0, length).Select(i => (i * 5 + 2) % 9).ToArray();
        var full = Model.Decoder.Forward(Model.Embed(Model.TargetEmbedding, target), memory, AttentionMask.Causal);

        var cache = Model.Decoder.CreateCache();
        for (var t = 0; t < length; t++)
        {
            var row = Model.Decoder.ForwardWithCache(Model.Embed(Model.TargetEmbedding, [target[t]], t), memory, cache);
            Expect.Close(row.Row(0), full.Row(t), what: $"position {t} of {length}");
        }
        cache.Length.Should().Be(length);
    }

    [Fact]
    public void Several_new_tokens_at_once_attend_causally_to_each_other_and_to_the_cache()
    {
        var memory = Model.Encode(Source);
        int[] target = [2, 6, 1, 8, 4, 4, 0];
        var full = Model.Decoder.Forward(Model.Embed(Model.TargetEmbedding, target), memory, AttentionMask.Causal);
        var cache = Model.Decoder.CreateCache();
        Model.Decoder.ForwardWithCache(Model.Embed(Model.TargetEmbedding, target[..3]), memory, cache);
        var rest = Model.Decoder.ForwardWithCache(Model.Embed(Model.TargetEmbedding, target[3..], 3), memory, cache);
        Expect.Close(rest, full.SubMatrix(3, 4, 0, 16), what: "rows 3–6 after a prefix of 3");
    }

    [Fact]
    public void Greedy_decoding_with_the_cache_equals_decoding_without_it()
    {
        var cached = new Decoding(Model).Greedy(Source, Options(cache: true, max: 30, record: true));
        var uncached = new Decoding(Model).Greedy(Source, Options(cache: false, max: 30, record: true));
        cached.Tokens.Should().Equal(uncached.Tokens);
        for (var t = 0; t < cached.Steps.Count; t++)
        {
            cached.Steps[t].Probability.Should().BeApproximately(uncached.Steps[t].Probability, 1e-5f);
            for (var layer = 0; layer < 2; layer++)
            {
                Expect.Close(cached.Steps[t].SelfAttention![layer], uncached.Steps[t].SelfAttention![layer], what: $"self-attention, step {t}, layer {layer}");
                Expect.Close(cached.Steps[t].CrossAttention![layer], uncached.Steps[t].CrossAttention![layer], what: $"cross-attention, step {t}, layer {layer}");
            }
        }
    }

    [Fact]
    public void Greedy_picks_the_most_likely_token_at_every_step()
    {
        var result = new Decoding(Model).Greedy(Source, Options(max: 6));
        var prefix = new List<int> { 2 };
        foreach (var step in result.Steps)
        {
            var logits = Model.Forward(Source, prefix).Row(prefix.Count - 1);
            step.Output.Should().Be(logits.MaximumIndex());
            step.Input.Should().Be(prefix[^1]);
            prefix.Add(step.Output);
        }
        result.Tokens.Should().HaveCount(6);
    }

    [Fact]
    public void Decoding_stops_at_the_end_token()
    {
        var free = new Decoding(Model).Greedy(Source, Options(max: 20));
        var end = free.Tokens[3]; // pretend the fourth token produced is <eos>
        var stopped = new Decoding(Model).Greedy(Source, Options(max: 20, end: end));
        stopped.Tokens.Should().Equal(free.Tokens.Take(free.Tokens.ToList().IndexOf(end) + 1));
        stopped.Tokens[^1].Should().Be(end);
    }

    [Fact]
    public void Recorded_attention_has_one_row_per_layer_as_wide_as_what_the_step_sees()
    {
        var result = new Decoding(Model).Greedy(Source, Options(max: 4, record: true));
        var step = result.Steps[2];
        step.SelfAttention.Should().HaveCount(2).And.AllSatisfy(w => (w.RowCount, w.ColumnCount).Should().Be((1, 3)));
        step.CrossAttention.Should().HaveCount(2).And.AllSatisfy(w => (w.RowCount, w.ColumnCount).Should().Be((1, Source.Length)));
        step.SelfAttention![0].Row(0).Sum().Should().BeApproximately(1.0f, 1e-6f);
    }

    [Fact]
    public void Sampling_is_repeatable_with_the_same_seed()
    {
        var sampling = new SamplingOptions(Temperature: 1.5f);
        var a = new Decoding(Model).Sample(Source, Options(max: 15), sampling, new TorchGenerator(3));
        var b = new Decoding(Model).Sample(Source, Options(max: 15), sampling, new TorchGenerator(3));
        a.Tokens.Should().Equal(b.Tokens);
        var c = new Decoding(Model).Sample(Source, Options(max: 15), sampling, new TorchGenerator(4));
        c.Tokens.Should().NotEqual(a.Tokens, "another seed draws another sentence (15 tokens out of 9 each)");
    }

    [Theory]
    [InlineData(1.0f, 1, null)]
    [InlineData(1.0f, null, 1e-6f)]
    [InlineData(0.01f, null, null)]
    public void Top_k_of_1_a_tiny_nucleus_or_a_tiny_temperature_is_greedy(float temperature, int? topK, float? topP)
    {
        var greedy = new Decoding(Model).Greedy(Source, Options(max: 10));
        var sampled = new Decoding(Model).Sample(Source, Options(max: 10), new SamplingOptions(temperature, topK, topP), new TorchGenerator(1));
        sampled.Tokens.Should().Equal(greedy.Tokens);
    }

    [Fact]
    public void Top_k_sampling_only_ever_draws_from_the_k_most_likely_tokens()
    {
        var result = new Decoding(Model).Sample(Source, Options(max: 25), new SamplingOptions(TopK: 3), new TorchGenerator(8));
        var prefix = new List<int> { 2 };
        foreach (var token in result.Tokens)
        {
            var logits = Model.Forward(Source, prefix).Row(prefix.Count - 1);
            var top3 = Enumerable.Range(0, 9).OrderByDescending(i => logits[i]).Take(3);
            top3.Should().Contain(token);
            prefix.Add(token);
        }
    }

    [Fact]
    public void Beam_search_of_width_1_is_greedy_and_wider_beams_are_ranked_by_score()
    {
        var greedy = new Decoding(Model).Greedy(Source, Options(max: 8));
        var one = new Decoding(Model).BeamSearch(Source, Options(max: 8), beamWidth: 1);
        one.Should().ContainSingle().Which.Tokens.Should().Equal(greedy.Tokens);

        var four = new Decoding(Model).BeamSearch(Source, Options(max: 8), beamWidth: 4, lengthPenalty: 0.0);
        four.Should().HaveCount(4);
        four.Select(r => r.Score).Should().BeInDescendingOrder();
        four.Should().OnlyContain(r => Math.Abs(r.Score - r.LogProbability) < 1e-9, "α = 0 ranks by raw log-probability");
        four[0].LogProbability.Should().BeGreaterThanOrEqualTo(greedy.LogProbability - 1e-6);
    }

    [Fact]
    public void Beam_search_with_and_without_the_cache_agree()
    {
        var cached = new Decoding(Model).BeamSearch(Source, Options(max: 8), beamWidth: 3);
        var uncached = new Decoding(Model).BeamSearch(Source, Options(cache: false, max: 8), beamWidth: 3);
        cached.Select(r => r.Tokens).Should().BeEquivalentTo(uncached.Select(r => r.Tokens), o => o.WithStrictOrdering());
    }

    [Fact]
    public void Suppressed_tokens_are_never_produced()
    {
        var free = new Decoding(Model).Greedy(Source, Options(max: 20));
        var suppressed = free.Tokens.Distinct().Take(2).ToArray();
        var result = new Decoding(Model).Greedy(Source, Options(max: 20) with { SuppressedTokens = suppressed });
        result.Tokens.Should().NotContain(suppressed);
        result.Steps.Should().OnlyContain(s => s.Probability > 0);
    }
}
