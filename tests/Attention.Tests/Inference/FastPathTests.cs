using Attention.Inference;
using Attention.Kernels;
using Attention.Layers;
using Attention.Mechanisms;
using Attention.Randomness;
using Attention.Tests.Support;
using Attention.Transformers;
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Tests.Inference;

/// <summary>
/// The inference fast path must compute what the readable lesson code computes, on every option. The sizes are large
/// enough that the kernels split every step between threads: d_model 128 = 4 heads of 32, d_ff 256, 257 target tokens
/// and 131 source tokens (projections of 257 × 128 × 128 = 4.2 M multiply-adds, attention 257² × 64 × 4 = 17 M, both
/// above the 2 M and 4 M thresholds).
/// </summary>
public class FastPathTests
{
    private static readonly TransformerOptions Options = LayerOptions.Small with { ModelDim = 128, HeadCount = 4, FeedForwardDim = 256 };

    public static TheoryData<bool, Activation, string, int> Cases()
    {
        var data = new TheoryData<bool, Activation, string, int>();
        foreach (var normFirst in new[] { false, true })
        {
            foreach (var mask in new[] { "none", "causal", "padding", "causal+padding" })
            {
                foreach (var threads in new[] { 1, 2 })
                {
                    data.Add(normFirst, mask == "padding" ? Activation.Gelu : Activation.ReLU, mask, threads);
                }
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void The_encoder_layer_fast_path_equals_the_readable_layer(bool normFirst, Activation activation, string mask, int threads)
    {
        var layer = new EncoderLayer(Options with { NormFirst = normFirst, Activation = activation }, new TorchGenerator(1));
        Perturb(layer.Norm1, 21);
        Perturb(layer.Norm2, 22);
        var x = RandomMatrices.Uniform(257, 128, 2);
        var readable = Run(false, threads, () => layer.Forward(x, Mask(mask, 257, 257)));
        var fast = Run(true, threads, () => layer.Forward(x, Mask(mask, 257, 257)));
        Expect.Close(fast, readable, relative: 1e-6f, absolute: 1e-6f, what: $"encoder layer, norm first {normFirst}, {mask}, {threads} threads");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void The_decoder_layer_fast_path_equals_the_readable_layer(bool normFirst, Activation activation, string mask, int threads)
    {
        var layer = new DecoderLayer(Options with { NormFirst = normFirst, Activation = activation }, new TorchGenerator(3));
        Perturb(layer.Norm1, 23);
        Perturb(layer.Norm2, 24);
        Perturb(layer.Norm3, 25);
        var (y, memory) = (RandomMatrices.Uniform(257, 128, 4), RandomMatrices.Uniform(131, 128, 5));
        var memoryMask = mask.Contains("padding") ? AttentionMask.KeyPadding(keyCount: 131, length: 120) : null;
        var targetMask = mask.Contains("causal") ? AttentionMask.Causal : null;
        var readable = Run(false, threads, () => layer.Forward(y, memory, targetMask, memoryMask));
        var fast = Run(true, threads, () => layer.Forward(y, memory, targetMask, memoryMask));
        Expect.Close(fast, readable, relative: 1e-6f, absolute: 1e-6f, what: $"decoder layer, norm first {normFirst}, {mask}, {threads} threads");
    }

    [Theory]
    [InlineData(false, 1)]
    [InlineData(false, 2)]
    [InlineData(true, 1)]
    [InlineData(true, 2)]
    public void Cached_decoder_steps_on_the_fast_path_equal_the_readable_steps(bool normFirst, int threads)
    {
        // A prefix of 200 target rows at once, then single rows: the fast path reads the cache's keys and values in place.
        var decoder = new TransformerDecoder(Options with { NormFirst = normFirst }, new TorchGenerator(14));
        foreach (var layer in decoder.Layers)
        {
            Perturb(layer.Norm1, 26);
            Perturb(layer.Norm3, 27);
        }
        var (target, memory) = (RandomMatrices.Uniform(205, 128, 15), RandomMatrices.Uniform(131, 128, 16));
        var memoryMask = AttentionMask.KeyPadding(keyCount: 131, length: 125);
        var (fastCache, readableCache) = (decoder.CreateCache(), decoder.CreateCache());
        foreach (var (first, rows) in new[] { (0, 200), (200, 1), (201, 1), (202, 3) })
        {
            var step = target.SubMatrix(first, rows, 0, 128);
            var fast = Run(true, threads, () => decoder.ForwardWithCache(step, memory, fastCache, memoryMask));
            var readable = Run(false, threads, () => decoder.ForwardWithCache(step, memory, readableCache, memoryMask));
            Expect.Close(fast, readable, relative: 1e-6f, absolute: 1e-6f, what: $"rows {first}–{first + rows - 1}, norm first {normFirst}, {threads} threads");
        }
        fastCache.Length.Should().Be(205);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Cross_attention_with_other_key_and_value_widths_takes_the_fast_path_to_the_same_result(int threads)
    {
        var attention = new MultiHeadAttention(128, 4, new TorchGenerator(6), keyDim: 96, valueDim: 80);
        var (query, key, value) = (RandomMatrices.Uniform(257, 128, 7), RandomMatrices.Uniform(131, 96, 8), RandomMatrices.Uniform(131, 80, 9));
        var mask = AttentionMask.KeyPadding(keyCount: 131, length: 100);
        var readable = Run(false, threads, () => attention.Forward(query, key, value, mask, needWeights: false).Output);
        var fast = Run(true, threads, () => attention.Forward(query, key, value, mask, needWeights: false).Output);
        var withWeights = Run(true, threads, () => attention.Forward(query, key, value, mask, needWeights: true).Output);
        Expect.Close(fast, readable, relative: 1e-6f, absolute: 1e-6f, what: "fast against readable, fused heads");
        Expect.Close(fast, withWeights, what: "fast against the path that keeps the weights (scale applied after the product)");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Decoding_with_and_without_the_fast_path_gives_the_same_tokens_and_probabilities(bool useCache)
    {
        var model = new Transformer(Options with { SourceVocabularySize = 20, TargetVocabularySize = 20, MaxPositions = 300 }, new TorchGenerator(10));
        var source = Enumerable.Range(0, 131).Select(i => (i * 7 + 3) % 20).ToArray();
        var options = new DecodingOptions { StartToken = 2, EndToken = null, MaxNewTokens = 12, UseCache = useCache };
        var readable = Run(false, 2, () => new Decoding(model).Greedy(source, options));
        var fast = Run(true, 2, () => new Decoding(model).Greedy(source, options));
        fast.Tokens.Should().Equal(readable.Tokens);
        fast.LogProbability.Should().BeApproximately(readable.LogProbability, 1e-5);
    }

    [Fact]
    public void The_process_wide_switch_and_the_flow_scope_choose_the_path()
    {
        var before = FastPath.Enabled;
        try
        {
            FastPath.Enabled = false;
            FastPath.IsActive.Should().BeFalse();
            using (FastPath.Use(true))
            {
                FastPath.IsActive.Should().BeTrue("the flow's choice wins over the process-wide one");
            }
            FastPath.IsActive.Should().BeFalse();
        }
        finally
        {
            FastPath.Enabled = before;
        }
    }

    [Fact]
    public void Training_mode_never_takes_the_fast_path()
    {
        // Dropout draws its masks in the lesson's order; the fast path has no dropout, so training must run the lesson.
        // Two layers from the same seed draw the same masks only if both run the readable path.
        EncoderLayer Layer() => new(Options with { Dropout = 0.25f }, new TorchGenerator(12));
        var (a, b) = (Layer(), Layer());
        a.SetTraining(true);
        b.SetTraining(true);
        var x = RandomMatrices.Uniform(33, 128, 13);
        var fast = Run(true, 1, () => a.Forward(x));
        var readable = Run(false, 1, () => b.Forward(x));
        Expect.BitExact(fast.ToColumnMajorArray(), readable.ToColumnMajorArray(), "training with the fast path switched on");
        var evaluation = Run(true, 1, () => { a.SetTraining(false); return a.Forward(x); });
        evaluation.Should().NotBe(fast, "dropout was active in training");
    }

    /// <summary>Norms start as γ = 1, β = 0, which would hide a norm used in the wrong place: give each its own.</summary>
    private static void Perturb(LayerNorm norm, int seed)
    {
        var random = RandomMatrices.Uniform(2, norm.Dimension, seed);
        norm.Gain.SetValues(random.Row(0).Map(v => 1 + v).ToArray());
        norm.Bias.SetValues(random.Row(1).ToArray());
    }

    private static AttentionMask? Mask(string kind, int n, int m) => kind switch
    {
        "causal" => AttentionMask.Causal,
        "padding" => AttentionMask.KeyPadding(keyCount: m, length: m - 17),
        "causal+padding" => AttentionMask.Combine(AttentionMask.Causal, AttentionMask.KeyPadding(keyCount: m, length: m - 17)),
        _ => null,
    };

    private static T Run<T>(bool fast, int threads, Func<T> call)
    {
        using (FastPath.Use(fast))
        using (Parallelism.Use(threads))
        {
            return call();
        }
    }
}
