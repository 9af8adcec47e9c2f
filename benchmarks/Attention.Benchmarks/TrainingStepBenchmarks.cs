using Attention.Randomness;
using Attention.Training;
using Attention.Transformers;
using BenchmarkDotNet.Attributes;

namespace Attention.Benchmarks;

/// <summary>
/// One training step of issue 15 (forward, cross-entropy with label smoothing 0.1, backward, Adam), dropout 0.1, at two
/// sizes, beside PyTorch 1.13 on the same machine (tools/timing/train_step.py, same sizes, padded batches):
/// small: d_model 64, 4 heads, d_ff 256, 2 + 2 layers, vocabularies 1000, batch 32 of 16 + 16 tokens;
/// medium: d_model 256, 4 heads, d_ff 1024, 3 + 3 layers, vocabularies 4000, batch 16 of 32 + 32 tokens.
/// The batch runs through <see cref="DataParallel"/> with 2 shards (its sentences spread over the cores it has).
/// </summary>
[Config(typeof(TrainingConfig))]
public class TrainingStepBenchmarks
{
    private Transformer _model = null!;
    private DataParallel _parallel = null!;
    private Adam _adam = null!;
    private SentencePair[] _batch = null!;
    private readonly CrossEntropyLoss _loss = new(labelSmoothing: 0.1f);
    private int _step;

    /// <summary>small or medium.</summary>
    [Params("small", "medium")]
    public string Size { get; set; } = "small";

    [GlobalSetup]
    public void Setup()
    {
        var (d, ff, layers, vocabulary, batch, length) = Size == "small" ? (64, 256, 2, 1000, 32, 16) : (256, 1024, 3, 4000, 16, 32);
        var options = new TransformerOptions
        {
            ModelDim = d, HeadCount = 4, FeedForwardDim = ff, EncoderLayers = layers, DecoderLayers = layers, Dropout = 0.1f,
            SourceVocabularySize = vocabulary, TargetVocabularySize = vocabulary, MaxPositions = 64,
        };
        _model = new Transformer(options, new TorchGenerator(1));
        _parallel = new DataParallel(_model, shards: 2);
        _adam = new Adam(_model.Parameters(), 1e-4f, 0.9f, 0.98f, 1e-9f);
        var random = new Random(2);
        _batch = [.. Enumerable.Range(0, batch).Select(_ => new SentencePair(
            [.. Enumerable.Range(0, length).Select(_ => random.Next(3, vocabulary))], [.. Enumerable.Range(0, length).Select(_ => random.Next(3, vocabulary))]))];
    }

    [Benchmark]
    public double TrainingStep()
    {
        _adam.ZeroGradients();
        var result = _parallel.ForwardBackward(_batch, _loss, startToken: 1, dropoutSeed: ++_step);
        _adam.Step();
        return result.Loss;
    }
}
