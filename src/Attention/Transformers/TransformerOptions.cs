using System.Text.Json;
using System.Text.Json.Serialization;
using Attention.Layers;

namespace Attention.Transformers;

/// <summary>The sizes and switches of a <see cref="Transformer"/>; the defaults are the paper's base model (Table 3).</summary>
public sealed record TransformerOptions
{
    /// <summary>d_model, the width of every token vector between sub-layers (paper: 512).</summary>
    public int ModelDim { get; init; } = 512;

    /// <summary>h, the number of attention heads; must divide d_model (paper: 8, so d_k = d_v = 64).</summary>
    public int HeadCount { get; init; } = 8;

    /// <summary>d_ff, the inner width of the feed-forward networks (paper: 2048).</summary>
    public int FeedForwardDim { get; init; } = 2048;

    /// <summary>N for the encoder stack (paper: 6).</summary>
    public int EncoderLayers { get; init; } = 6;

    /// <summary>N for the decoder stack (paper: 6).</summary>
    public int DecoderLayers { get; init; } = 6;

    /// <summary>P_drop, on sub-layer outputs, on the embeddings plus positions, and inside the feed-forward network (paper: 0.1). Active only in training mode.</summary>
    public float Dropout { get; init; } = 0.1f;

    /// <summary>Feed-forward non-linearity (paper: ReLU).</summary>
    public Activation Activation { get; init; } = Activation.ReLU;

    /// <summary>False (the paper): LayerNorm after each residual sum. True: before each sub-layer (pre-norm, PyTorch's <c>norm_first</c>).</summary>
    public bool NormFirst { get; init; }

    /// <summary>ε inside every LayerNorm's square root (PyTorch's default 1e-5).</summary>
    public float LayerNormEpsilon { get; init; } = 1e-5f;

    /// <summary>Whether the encoder and decoder stacks end with a LayerNorm, as <c>nn.Transformer</c> does (the <c>encoder.norm</c> and <c>decoder.norm</c> parameters).</summary>
    public bool FinalNorm { get; init; } = true;

    /// <summary>Number of source tokens (rows of the source embedding).</summary>
    public int SourceVocabularySize { get; init; } = 32_000;

    /// <summary>Number of target tokens (rows of the target embedding, outputs of the LM head).</summary>
    public int TargetVocabularySize { get; init; } = 32_000;

    /// <summary>The longest source or target the positional table covers.</summary>
    public int MaxPositions { get; init; } = 512;

    /// <summary>Whether embeddings are multiplied by √d_model before positions are added (paper §3.4: yes).</summary>
    public bool ScaleEmbeddings { get; init; } = true;

    /// <summary>Whether the LM head shares its weight with the target embedding (paper §3.4: yes; off by default here, as in <c>nn.Transformer</c> code).</summary>
    public bool TieOutputToEmbedding { get; init; }

    /// <summary>Learned positions (an embedding per position) instead of the paper's sinusoids.</summary>
    public bool LearnedPositions { get; init; }

    /// <summary>The padding token's id in both vocabularies (PyTorch's <c>padding_idx</c> on both embeddings: the row
    /// starts at zero and gets no gradient), or null (the default) for none.</summary>
    public int? PaddingIndex { get; init; }

    /// <summary>d_model / h.</summary>
    public int HeadDim => ModelDim / HeadCount;

    /// <summary>A small model for tests and samples: d_model 16, h 4, d_ff 32, 2 + 2 layers, no dropout.</summary>
    /// <param name="sourceVocabularySize">Rows of the source embedding.</param>
    /// <param name="targetVocabularySize">Rows of the target embedding.</param>
    /// <returns>The options.</returns>
    public static TransformerOptions Small(int sourceVocabularySize, int targetVocabularySize) => new()
    {
        ModelDim = 16,
        HeadCount = 4,
        FeedForwardDim = 32,
        EncoderLayers = 2,
        DecoderLayers = 2,
        Dropout = 0.0f,
        SourceVocabularySize = sourceVocabularySize,
        TargetVocabularySize = targetVocabularySize,
        MaxPositions = 64,
    };

    /// <summary><paramref name="options"/> itself, or an <see cref="ArgumentNullException"/>: for constructors that read
    /// options in their initializer, before a body could check them.</summary>
    internal static TransformerOptions Required(TransformerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options;
    }

    /// <summary>Throws <see cref="ArgumentException"/> when the sizes do not make a model: a size not positive, d_model
    /// not divisible by h, or a negative layer count.</summary>
    public void Validate()
    {
        foreach (var (name, value) in new[] { (nameof(ModelDim), ModelDim), (nameof(HeadCount), HeadCount), (nameof(FeedForwardDim), FeedForwardDim),
                     (nameof(SourceVocabularySize), SourceVocabularySize), (nameof(TargetVocabularySize), TargetVocabularySize), (nameof(MaxPositions), MaxPositions) })
        {
            if (value <= 0)
            {
                throw new ArgumentException($"{name} must be positive, but is {value}.", name);
            }
        }
        if (ModelDim % HeadCount != 0)
        {
            throw new ArgumentException($"d_model = {ModelDim} is not divisible by h = {HeadCount} heads.", nameof(HeadCount));
        }
        if (EncoderLayers < 0 || DecoderLayers < 0)
        {
            throw new ArgumentException($"Layer counts cannot be negative (encoder {EncoderLayers}, decoder {DecoderLayers}).", nameof(EncoderLayers));
        }
        if (PaddingIndex is { } pad && (pad < 0 || pad >= Math.Min(SourceVocabularySize, TargetVocabularySize)))
        {
            throw new ArgumentException($"PaddingIndex {pad} is not an id of both vocabularies (source {SourceVocabularySize}, target {TargetVocabularySize}).", nameof(PaddingIndex));
        }
    }

    private static readonly JsonSerializerOptions Json = new() { Converters = { new JsonStringEnumConverter() } };

    /// <summary>The options as JSON (every property, the activation by name), as a checkpoint's metadata keeps them.</summary>
    /// <returns>The JSON text.</returns>
    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>Options from <see cref="ToJson"/>'s JSON, validated.</summary>
    /// <param name="json">The JSON text.</param>
    /// <returns>The options.</returns>
    /// <exception cref="InvalidDataException">Not options JSON, or options that do not make a model (the message says which).</exception>
    public static TransformerOptions FromJson(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        try
        {
            var options = JsonSerializer.Deserialize<TransformerOptions>(json, Json) ?? throw new InvalidDataException("The options are null.");
            options.Validate();
            return options;
        }
        catch (Exception e) when (e is JsonException or ArgumentException)
        {
            throw new InvalidDataException($"Not valid Transformer options: {e.Message}", e);
        }
    }

    /// <summary>The properties in which two options differ, as "Name: this → other".</summary>
    /// <param name="other">The other options.</param>
    /// <returns>One line per differing property; empty when equal.</returns>
    public IReadOnlyList<string> Differences(TransformerOptions other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return [.. typeof(TransformerOptions).GetProperties().Where(p => p.CanWrite && !Equals(p.GetValue(this), p.GetValue(other)))
            .Select(p => $"{p.Name}: {p.GetValue(this) ?? "null"} → {p.GetValue(other) ?? "null"}")];
    }
}
