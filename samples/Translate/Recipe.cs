// The recipe of the translation model, in one place: the sample's --train uses it, and a test runs its first updates
// to check they give the same bits on any machine (with the SIMD width fixed).
using Attention.Randomness;
using Attention.Tokenization;
using Attention.Training;
using Attention.Transformers;

namespace Attention.Samples;

/// <summary>Tokenizer, model, optimizer, schedule and trainer settings of the Korean → English model.</summary>
internal static class Recipe
{
    /// <summary>Special tokens + 256 bytes + 741 merges, one vocabulary for both languages.</summary>
    public const int VocabularySize = 1000;

    /// <summary>Passes over the training split.</summary>
    public const int Epochs = 15;

    /// <summary>Sentence pairs per update.</summary>
    public const int BatchSize = 32;

    /// <summary>The byte-level BPE learned from the training pairs, Korean and English alike. One vocabulary, because
    /// the LM head can then share its weight with the target embedding, and byte fallback works the same on both sides.</summary>
    public static BytePairTokenizer Tokenizer(IEnumerable<(string Korean, string English)> train) =>
        BytePairTokenizer.Train(train.SelectMany(p => new[] { p.Korean, p.English }), VocabularySize);

    /// <summary>3 + 3 layers, d_model 128, 4 heads, d_ff 512 (about 1.6 M parameters), dropout 0.1, a tied LM head.</summary>
    public static TransformerOptions Options(int vocabulary) => new()
    {
        ModelDim = 128, HeadCount = 4, FeedForwardDim = 512, EncoderLayers = 3, DecoderLayers = 3, Dropout = 0.1f,
        SourceVocabularySize = vocabulary, TargetVocabularySize = vocabulary, MaxPositions = 64, TieOutputToEmbedding = true, PaddingIndex = 0,
    };

    /// <summary>The model, drawn from seed 1.</summary>
    public static Transformer Model(int vocabulary) => Model(Options(vocabulary));

    /// <summary>A model of other options (the parity run's dropout 0, say), drawn from the same seed.</summary>
    public static Transformer Model(TransformerOptions options) => new(options, new TorchGenerator(1));

    /// <summary>AdamW (β₂ 0.98, ε 1e-9 as the paper), weight decay 0.01 on matrices only.</summary>
    public static Optimizer Optimizer(Transformer model) =>
        new AdamW(ParameterGroup.DecayMatricesOnly(model.Parameters(), 0.01f), 0, 0.9f, 0.98f, 1e-9f);

    /// <summary>100 updates of linear warm-up to 2e-3, then a cosine decay to 1e-5 at the last update.</summary>
    public static Func<int, float> Schedule(int steps)
    {
        var cosine = LearningRateSchedule.Cosine(peak: 2e-3f, floor: 1e-5f, totalSteps: steps);
        return n => n <= 100 ? cosine(1) * n / 100 : cosine(n);
    }

    /// <summary>Label smoothing 0.1, seed 1, batches of 32.</summary>
    public static TrainerOptions Trainer(int epochs, int startToken, string? checkpoints) => new()
    {
        Epochs = epochs, BatchSize = BatchSize, StartToken = startToken, LabelSmoothing = 0.1f, Seed = 1, CheckpointDirectory = checkpoints,
    };

    /// <summary>The updates <paramref name="epochs"/> passes over <paramref name="pairs"/> make.</summary>
    public static int Steps(int pairs, int epochs) => epochs * ((pairs + BatchSize - 1) / BatchSize);
}
