using Attention.Randomness;
using Attention.Transformers;
using BenchmarkDotNet.Attributes;

namespace Attention.Benchmarks;

/// <summary>
/// Greedy decoding of 32, 128 and 512 tokens (no &lt;eos&gt;, so every run makes all of them) with a small model
/// (d_model 64, h 4, d_ff 128, 2 + 2 layers, 64-token vocabulary, 12-token source): re-running the whole prefix at every
/// step (baseline, O(t²) work per step) against the KV cache (O(t) per step).
/// </summary>
/// <remarks>One call takes from milliseconds to seconds, so a fixed small number of iterations is enough; a warm-up of
/// two calls already runs each hot loop thousands of times, past tiered compilation.</remarks>
[MemoryDiagnoser]
[Config(typeof(SlowCallsConfig))]
public class DecodingBenchmarks
{
    private Decoding _generator = null!;
    private readonly int[] _source = [5, 9, 13, 2, 44, 17, 8, 30, 11, 6, 21, 4];

    [Params(32, 128, 512)]
    public int Tokens { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var options = new TransformerOptions
        {
            ModelDim = 64, HeadCount = 4, FeedForwardDim = 128, EncoderLayers = 2, DecoderLayers = 2, Dropout = 0,
            SourceVocabularySize = 64, TargetVocabularySize = 64, MaxPositions = 600,
        };
        _generator = new Decoding(new Transformer(options, new TorchGenerator(1)));
    }

    [Benchmark(Baseline = true)]
    public int WithoutCache() => Decode(useCache: false);

    [Benchmark]
    public int WithCache() => Decode(useCache: true);

    private int Decode(bool useCache) =>
        _generator.Greedy(_source, new DecodingOptions { StartToken = 2, EndToken = null, MaxNewTokens = Tokens, UseCache = useCache }).Tokens.Count;
}
