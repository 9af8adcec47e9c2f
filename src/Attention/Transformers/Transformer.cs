// "Attention Is All You Need", Figure 1: embeddings (·√d_model, §3.4) + positional encodings (§3.5) → encoder stack;
// shifted target embeddings + positions → decoder stack attending to the encoder's memory → linear → softmax.
using Attention.Kernels;
using Attention.Layers;
using Attention.Mechanisms;
using Attention.Randomness;
using Attention.Serialization;
using Attention.Training;
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Transformers;

/// <summary>
/// The encoder-decoder Transformer with token embeddings, positional encodings and an LM head. The encoder and decoder
/// use PyTorch's <c>nn.Transformer</c> parameter names (<c>encoder.layers.0.self_attn.in_proj_weight</c>, …,
/// <c>encoder.norm.weight</c>, <c>decoder.norm.weight</c>); the parts nn.Transformer lacks are named
/// <c>source_embedding.weight</c>, <c>target_embedding.weight</c>, <c>positional_encoding.weight</c> (learned positions
/// only) and <c>lm_head.weight</c>, <c>lm_head.bias</c>.
/// </summary>
/// <remarks>Inference is thread-safe: <see cref="Encode"/>, <see cref="Decode"/> and <see cref="Forward"/> keep no state
/// between calls (a <see cref="DecoderCache"/> belongs to its caller). Dropout is off until <see cref="SetTraining"/>.</remarks>
public sealed class Transformer
{
    /// <summary>Creates a model with fresh weights: source and target embeddings N(0, 1), encoder, decoder and LM head
    /// with PyTorch's initialisations, drawn in that order from <paramref name="generator"/>.</summary>
    /// <param name="options">Sizes and switches; see <see cref="TransformerOptions"/>.</param>
    /// <param name="generator">The random source.</param>
    public Transformer(TransformerOptions options, TorchGenerator generator)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(generator);
        options.Validate();
        Options = options;
        SourceEmbedding = new Embedding(options.SourceVocabularySize, options.ModelDim, generator, options.PaddingIndex);
        TargetEmbedding = new Embedding(options.TargetVocabularySize, options.ModelDim, generator, options.PaddingIndex);
        Positions = options.LearnedPositions
            ? new LearnedPositionalEncoding(options.MaxPositions, options.ModelDim, generator)
            : new SinusoidalPositionalEncoding(options.ModelDim, options.MaxPositions);
        Encoder = new TransformerEncoder(options, generator);
        Decoder = new TransformerDecoder(options, generator);
        LmHead = options.TieOutputToEmbedding
            ? Linear.Sharing(TargetEmbedding.WeightParameter, Vector<float>.Build.Dense(options.TargetVocabularySize))
            : new Linear(options.ModelDim, options.TargetVocabularySize, generator);
        EmbeddingDropout = new Dropout(options.Dropout, generator);
    }

    private Transformer(TransformerOptions options, Embedding source, Embedding target, IPositionalEncoding positions, TransformerEncoder encoder, TransformerDecoder decoder, Linear lmHead, TorchGenerator generator)
    {
        (Options, SourceEmbedding, TargetEmbedding, Positions, Encoder, Decoder, LmHead) = (options, source, target, positions, encoder, decoder, lmHead);
        EmbeddingDropout = new Dropout(options.Dropout, generator);
    }

    /// <summary>The sizes and switches.</summary>
    public TransformerOptions Options { get; }

    /// <summary>Source token vectors, [source vocab × d_model].</summary>
    public Embedding SourceEmbedding { get; }

    /// <summary>Target token vectors, [target vocab × d_model].</summary>
    public Embedding TargetEmbedding { get; }

    /// <summary>The positional encoding added to both embedded sequences.</summary>
    public IPositionalEncoding Positions { get; }

    /// <summary>The encoder stack.</summary>
    public TransformerEncoder Encoder { get; }

    /// <summary>The decoder stack.</summary>
    public TransformerDecoder Decoder { get; }

    /// <summary>The LM head, d_model → target vocab: weight [vocab × d_model] (the target embedding itself when tied), bias [vocab].</summary>
    public Linear LmHead { get; }

    /// <summary>Dropout on embeddings plus positions.</summary>
    public Dropout EmbeddingDropout { get; }

    /// <summary>Builds a model from named parameters (copied), strictly, as PyTorch's <c>load_state_dict(strict=True)</c>:
    /// every parameter the options imply must be present, every name given must be one of them, and every shape must fit.</summary>
    /// <param name="state">The names listed on <see cref="Transformer"/>. With tied weights <c>lm_head.weight</c> may be absent,
    /// or present and equal to <c>target_embedding.weight</c> (PyTorch writes both).</param>
    /// <param name="options">Sizes and switches the parameters must fit.</param>
    /// <param name="generator">The source for dropout masks (weights come from <paramref name="state"/>).</param>
    /// <returns>The model.</returns>
    /// <exception cref="ArgumentException">Parameters are missing or unexpected (the message lists both), a tied
    /// <c>lm_head.weight</c> differs from the embedding, or a shape does not fit (the message names it and both shapes).</exception>
    public static Transformer FromStateDict(IReadOnlyDictionary<string, Matrix<float>> state, TransformerOptions options, TorchGenerator? generator = null)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var (missing, unexpected) = CompareNames(state, options);
        if (missing.Count > 0 || unexpected.Count > 0)
        {
            throw new ArgumentException(NamesMessage(missing, unexpected), nameof(state));
        }
        return Build(state, options, generator ?? new TorchGenerator(0));
    }

    /// <summary>Builds a model as <c>model = Transformer(options); model.load_state_dict(state, strict=False)</c> does in
    /// PyTorch: parameters missing from <paramref name="state"/> keep the values a fresh model draws from
    /// <paramref name="generator"/>, names the model does not have are ignored, and both lists are returned.</summary>
    /// <param name="state">Named parameters; shapes of the names the model has must fit.</param>
    /// <param name="options">Sizes and switches.</param>
    /// <param name="generator">The source of the fresh values (and of dropout masks).</param>
    /// <returns>The model, the missing names and the unexpected names, each sorted.</returns>
    public static StateDictLoad FromStateDictNonStrict(IReadOnlyDictionary<string, Matrix<float>> state, TransformerOptions options, TorchGenerator generator)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(generator);
        options.Validate();
        var (missing, unexpected) = CompareNames(state, options);
        var merged = new Transformer(options, generator).ToStateDict();
        foreach (var (name, value) in state)
        {
            if (merged.ContainsKey(name))
            {
                merged[name] = value;
            }
        }
        return new StateDictLoad(Build(merged, options, generator), missing, unexpected);
    }

    /// <summary>The names <paramref name="state"/> lacks and the names it has beyond the model's, each sorted; for a tied
    /// model a <c>lm_head.weight</c> equal to the embedding counts as expected.</summary>
    private static (List<string> Missing, List<string> Unexpected) CompareNames(IReadOnlyDictionary<string, Matrix<float>> state, TransformerOptions options)
    {
        // The names depend on the switches and layer counts, not on the sizes: a stand-in of width h lists them cheaply.
        var skeleton = options with
        {
            ModelDim = options.HeadCount, FeedForwardDim = 1, SourceVocabularySize = 1, TargetVocabularySize = 1, MaxPositions = 1,
        };
        var expected = new Transformer(skeleton, new TorchGenerator(0)).ToStateDict().Keys.ToHashSet(StringComparer.Ordinal);
        var missing = expected.Where(name => !state.ContainsKey(name)).Order(StringComparer.Ordinal).ToList();
        var unexpected = state.Keys.Where(name => !expected.Contains(name)).Order(StringComparer.Ordinal).ToList();
        if (options.TieOutputToEmbedding && unexpected.Remove("lm_head.weight"))
        {
            var head = state["lm_head.weight"];
            if (!state.TryGetValue("target_embedding.weight", out var embedding) || !head.Equals(embedding))
            {
                throw new ArgumentException(
                    "The model ties lm_head.weight to target_embedding.weight, but the checkpoint holds an lm_head.weight that differs from its target_embedding.weight (an untied model's).",
                    nameof(state));
            }
        }
        return (missing, unexpected);
    }

    private static string NamesMessage(List<string> missing, List<string> unexpected) =>
        "The checkpoint does not fit the model's options:"
        + (missing.Count > 0 ? $" missing {missing.Count} parameter(s): {string.Join(", ", missing)}." : "")
        + (unexpected.Count > 0 ? $" unexpected {unexpected.Count} tensor(s): {string.Join(", ", unexpected)}." : "")
        + " Check the layer counts, FinalNorm, LearnedPositions and TieOutputToEmbedding.";

    private static Transformer Build(IReadOnlyDictionary<string, Matrix<float>> state, TransformerOptions options, TorchGenerator generator)
    {
        var target = new Embedding(StateDict.Matrix(state, "target_embedding.weight", options.TargetVocabularySize, options.ModelDim), options.PaddingIndex);
        IPositionalEncoding positions = options.LearnedPositions
            ? new LearnedPositionalEncoding(StateDict.Matrix(state, "positional_encoding.weight", options.MaxPositions, options.ModelDim))
            : new SinusoidalPositionalEncoding(options.ModelDim, options.MaxPositions);
        var lmHead = options.TieOutputToEmbedding
            ? Linear.Sharing(target.WeightParameter, StateDict.Vector(state, "lm_head.bias", options.TargetVocabularySize))
            : Linear.FromStateDict(state, "lm_head.", options.ModelDim, options.TargetVocabularySize);
        return new Transformer(options,
            new Embedding(StateDict.Matrix(state, "source_embedding.weight", options.SourceVocabularySize, options.ModelDim), options.PaddingIndex),
            target, positions,
            TransformerEncoder.FromStateDict(state, "encoder.", options, generator),
            TransformerDecoder.FromStateDict(state, "decoder.", options, generator),
            lmHead, generator);
    }

    /// <summary>The metadata key of the checkpoint format version <see cref="Save"/> writes.</summary>
    public const string FormatKey = "attention.format";

    /// <summary>The metadata key of the model's options (<see cref="TransformerOptions.ToJson"/>).</summary>
    public const string OptionsKey = "attention.options";

    /// <summary>The checkpoint format <see cref="Save"/> writes and <see cref="Load(string)"/> reads.</summary>
    public const int CheckpointFormat = 1;

    /// <summary>Loads a model saved by <see cref="Save"/>: its options come from the file's metadata, so the path is all
    /// it needs.</summary>
    /// <param name="path">A .safetensors file written by <see cref="Save"/>.</param>
    /// <returns>The model, in evaluation mode.</returns>
    /// <exception cref="InvalidDataException">The file is not a safetensors file, has no options or another format
    /// version (written by another tool: use <see cref="Load(string, TransformerOptions)"/>), or its tensors do not fit
    /// its options.</exception>
    public static Transformer Load(string path)
    {
        var (state, metadata) = SafeTensors.ReadWithMetadata(path);
        if (!metadata.TryGetValue(OptionsKey, out var json) || metadata.GetValueOrDefault(FormatKey) != CheckpointFormat.ToString(System.Globalization.CultureInfo.InvariantCulture))
        {
            throw new InvalidDataException($"{path} has no '{OptionsKey}' of format {CheckpointFormat} in its metadata (format: '{metadata.GetValueOrDefault(FormatKey)}'), "
                + "so its sizes are unknown: it was not written by Transformer.Save. Load it with Transformer.Load(path, options).");
        }
        var options = TransformerOptions.FromJson(json);
        return FromFile(path, state, options);
    }

    /// <summary>Loads a model written by <see cref="Save"/> (or any safetensors file with these names, such as one
    /// written from PyTorch's state_dict), strictly.</summary>
    /// <param name="path">A .safetensors file.</param>
    /// <param name="options">The sizes and switches the file must fit. When the file records its own options they must be these.</param>
    /// <returns>The model, in evaluation mode.</returns>
    /// <exception cref="ArgumentException">The options themselves are invalid.</exception>
    /// <exception cref="InvalidDataException">The file is not a valid safetensors file, records other options (the message
    /// names each difference), or its parameters do not fit the options (missing or unexpected names, listed; other shapes).</exception>
    public static Transformer Load(string path, TransformerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();                                  // the caller's options: their errors stay ArgumentExceptions
        var (state, metadata) = SafeTensors.ReadWithMetadata(path);
        RequireSameOptions(metadata, options, path);
        return FromFile(path, state, options);
    }

    /// <summary>When a checkpoint's metadata records options, they must be <paramref name="options"/>: an
    /// <see cref="InvalidDataException"/> names every difference (in the file → given).</summary>
    internal static void RequireSameOptions(IReadOnlyDictionary<string, string> metadata, TransformerOptions options, string path)
    {
        if (metadata.TryGetValue(OptionsKey, out var json) && TransformerOptions.FromJson(json).Differences(options) is { Count: > 0 } differences)
        {
            throw new InvalidDataException($"{path} holds a model of other options than the ones given (in the file → given): {string.Join("; ", differences)}.");
        }
    }

    private static Transformer FromFile(string path, Dictionary<string, Matrix<float>> state, TransformerOptions options)
    {
        try
        {
            return FromStateDict(state, options);
        }
        catch (ArgumentException e)                          // everything else is about what the file holds
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
    }

    /// <summary>Writes the model as a safetensors file that <see cref="Load(string)"/> (or Python's <c>safetensors</c>)
    /// reads back: the parameters under <see cref="ToStateDict"/>'s names, and in the metadata the options
    /// (<see cref="OptionsKey"/>), the format (<see cref="FormatKey"/>) and any entries given (a tokenizer, say).</summary>
    /// <param name="path">The file to create or overwrite.</param>
    /// <param name="metadata">More string entries for the metadata, or null.</param>
    public void Save(string path, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var entries = new Dictionary<string, string>(metadata ?? new Dictionary<string, string>(), StringComparer.Ordinal)
        {
            [FormatKey] = CheckpointFormat.ToString(System.Globalization.CultureInfo.InvariantCulture),
            [OptionsKey] = Options.ToJson(),
        };
        SafeTensors.Write(path, ToStateDict(), entries);
    }

    /// <summary>PyTorch's <c>load_state_dict(state, strict=True)</c>: copies the values into this model's own parameters
    /// (so an optimizer holding them keeps working), after the same checks as <see cref="FromStateDict"/>; on any
    /// mismatch nothing changes.</summary>
    /// <param name="state">Named matrices, as <see cref="ToStateDict"/> writes them.</param>
    /// <exception cref="ArgumentException">Missing or unexpected names (listed) or another shape.</exception>
    public void LoadStateDict(IReadOnlyDictionary<string, Matrix<float>> state)
    {
        var loaded = FromStateDict(state, Options).NamedParameters();           // checks everything before a value moves
        var mine = NamedParameters();
        for (var i = 0; i < mine.Count; i++)
        {
            loaded[i].Parameter.Value.CopyTo(mine[i].Parameter.Value);
        }
    }

    /// <summary>All parameters under their names (copies; with tied weights <c>lm_head.weight</c> is left out, as it is the target embedding).</summary>
    /// <returns>Named matrices; 1-d tensors as [1 × n].</returns>
    public Dictionary<string, Matrix<float>> ToStateDict()
    {
        var state = new Dictionary<string, Matrix<float>>(StringComparer.Ordinal)
        {
            ["source_embedding.weight"] = SourceEmbedding.Weight.Clone(),
            ["target_embedding.weight"] = TargetEmbedding.Weight.Clone(),
        };
        if (Positions is LearnedPositionalEncoding learned)
        {
            state["positional_encoding.weight"] = learned.Table.Weight.Clone();
        }
        Encoder.AddTo(state, "encoder.");
        Decoder.AddTo(state, "decoder.");
        LmHead.AddTo(state, "lm_head.");
        if (Options.TieOutputToEmbedding)
        {
            state.Remove("lm_head.weight");
        }
        return state;
    }

    /// <summary>Embedding·√d_model (when <see cref="TransformerOptions.ScaleEmbeddings"/>) + positions, then dropout.</summary>
    /// <param name="embedding">Source or target embedding.</param>
    /// <param name="ids">n token ids.</param>
    /// <param name="startPosition">The position of the first id (non-zero for a decoding step).</param>
    /// <returns>[n × d_model].</returns>
    public Matrix<float> Embed(Embedding embedding, IReadOnlyList<int> ids, int startPosition = 0)
    {
        ArgumentNullException.ThrowIfNull(embedding);
        var x = embedding.Forward(ids);
        if (Options.ScaleEmbeddings)
        {
            x = x * MathF.Sqrt(Options.ModelDim);
        }
        return EmbeddingDropout.Forward(Positions.Forward(x, startPosition));
    }

    /// <summary>The encoder's memory for a source sentence.</summary>
    /// <param name="source">n source token ids.</param>
    /// <param name="sourceMask">Optional mask fitting [n × n], e.g. key padding.</param>
    /// <returns>[n × d_model].</returns>
    public Matrix<float> Encode(IReadOnlyList<int> source, AttentionMask? sourceMask = null) =>
        Encoder.Forward(Embed(SourceEmbedding, source), sourceMask);

    /// <summary>The decoder's output for a whole target under the causal mask.</summary>
    /// <param name="target">m target token ids, starting with <c>&lt;sos&gt;</c>.</param>
    /// <param name="memory">[n × d_model] from <see cref="Encode"/>.</param>
    /// <param name="memoryMask">Optional cross-attention mask fitting [m × n].</param>
    /// <returns>[m × d_model].</returns>
    public Matrix<float> Decode(IReadOnlyList<int> target, Matrix<float> memory, AttentionMask? memoryMask = null) =>
        Decoder.Forward(Embed(TargetEmbedding, target), memory, AttentionMask.Causal, memoryMask);

    /// <summary>Next-token logits for every target position: LmHead(Decode(target, Encode(source))).</summary>
    /// <param name="source">n source ids.</param>
    /// <param name="target">m target ids (shifted right: <c>&lt;sos&gt;</c> first).</param>
    /// <returns>[m × target vocab]; row i scores the token that follows target[0..i].</returns>
    public Matrix<float> Forward(IReadOnlyList<int> source, IReadOnlyList<int> target) => LmHead.Forward(Decode(target, Encode(source)));

    /// <summary>The forward pass for training on one sentence pair: the logits and what <see cref="Backward"/> needs.</summary>
    /// <param name="source">n source ids.</param>
    /// <param name="target">m target ids, shifted right (<c>&lt;sos&gt;</c> first).</param>
    /// <param name="sourceMask">Optional source key-padding mask (used by the encoder's self-attention and by cross-attention).</param>
    /// <returns>The record; its <see cref="TransformerRecord.Logits"/> are [m × target vocab].</returns>
    public TransformerRecord ForwardRecorded(IReadOnlyList<int> source, IReadOnlyList<int> target, AttentionMask? sourceMask = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(target);
        return Recorded([source], [target], sourceMask, AttentionMask.Causal, sourceMask);
    }

    /// <summary>The forward pass for training on a batch of sentence pairs, stacked: every sentence's tokens are rows of
    /// one matrix, so the position-wise layers (embeddings, projections, feed-forward, norms, LM head) run once on all
    /// of them, and attention is masked so that each sentence sees only itself (<see cref="AttentionMask.Sentences"/>).
    /// Each sentence's positions start at 0. The same numbers as one sentence at a time, up to rounding.</summary>
    /// <param name="sources">The source sentences' ids.</param>
    /// <param name="targets">The target sentences' ids, shifted right; as many as the sources.</param>
    /// <returns>The record; its logits are [Σ target lengths × target vocab], sentence after sentence.</returns>
    public TransformerRecord ForwardRecorded(IReadOnlyList<IReadOnlyList<int>> sources, IReadOnlyList<IReadOnlyList<int>> targets)
    {
        ArgumentNullException.ThrowIfNull(sources);
        ArgumentNullException.ThrowIfNull(targets);
        if (sources.Count != targets.Count || sources.Count == 0 || sources.Concat(targets).Any(s => s is null || s.Count == 0))
        {
            throw new ArgumentException($"A batch needs as many targets as sources ({targets.Count} and {sources.Count}), at least one of each, none empty.", nameof(targets));
        }
        var (sourceLengths, targetLengths) = (sources.Select(s => s.Count).ToArray(), targets.Select(t => t.Count).ToArray());
        var sourceMask = AttentionMask.Sentences(sourceLengths, sourceLengths);                 // each source sees itself
        var targetMask = AttentionMask.Sentences(targetLengths, targetLengths, causal: true);   // … each target its own past
        var crossMask = AttentionMask.Sentences(targetLengths, sourceLengths);                  // … and its own source
        return Recorded(sources, targets, sourceMask, targetMask, crossMask);
    }

    private TransformerRecord Recorded(IReadOnlyList<IReadOnlyList<int>> sources, IReadOnlyList<IReadOnlyList<int>> targets,
        AttentionMask? sourceMask, AttentionMask targetMask, AttentionMask? crossMask)
    {
        var (sourceEmbedded, sourceDropout) = EmbedRecorded(SourceEmbedding, sources);
        var encoded = Encoder.ForwardRecorded(sourceEmbedded, sourceMask);                           // memory
        var (targetEmbedded, targetDropout) = EmbedRecorded(TargetEmbedding, targets);
        var decoded = Decoder.ForwardRecorded(targetEmbedded, encoded.Output, targetMask, crossMask);
        return new TransformerRecord(sources, targets, sourceDropout, encoded, targetDropout, decoded, LmHead.Forward(decoded.Output));
    }

    /// <summary>The backward pass: from ∂L/∂logits, every parameter's gradient (tied weights collect both uses).</summary>
    /// <param name="record">From <see cref="ForwardRecorded(IReadOnlyList{int}, IReadOnlyList{int}, AttentionMask?)"/>.</param>
    /// <param name="logitsGradient">∂L/∂logits, shaped as the logits, e.g. from <see cref="Training.CrossEntropyLoss.Backward"/>.</param>
    public void Backward(TransformerRecord record, Matrix<float> logitsGradient)
    {
        ArgumentNullException.ThrowIfNull(record);
        var dDecoded = LmHead.Backward(record.Decoder.Output, logitsGradient);                      // through the LM head
        var (dTarget, dMemory) = Decoder.Backward(record.Decoder, dDecoded);
        var dSource = Encoder.Backward(record.Encoder, dMemory);                                     // the memory's gradient flows on
        EmbedBackward(TargetEmbedding, record.Targets, record.TargetDropout, dTarget);
        EmbedBackward(SourceEmbedding, record.Sources, record.SourceDropout, dSource);
    }

    /// <summary>Every trainable parameter once (a tied LM head's weight is the target embedding's): what an optimizer,
    /// gradient clipping and <c>ZeroGradients</c> walk. The order and names of <see cref="NamedParameters"/>.</summary>
    /// <returns>The parameters.</returns>
    public IReadOnlyList<Parameter> Parameters() => [.. NamedParameters().Select(p => p.Parameter)];

    /// <summary>Every trainable parameter once, named and ordered as <see cref="ToStateDict"/> writes them:
    /// <c>source_embedding.weight</c>, <c>target_embedding.weight</c>, <c>positional_encoding.weight</c> (learned
    /// positions only), <c>encoder.…</c> and <c>decoder.…</c> in <c>nn.Transformer</c>'s state_dict order, then
    /// <c>lm_head.weight</c> (left out when tied: it is the target embedding) and <c>lm_head.bias</c>. W_Q, W_K and W_V
    /// are named as the row slices of PyTorch's <c>in_proj_weight</c> they are (see <see cref="MultiHeadAttention.NamedParameters"/>).</summary>
    /// <returns>Name and parameter pairs.</returns>
    public IReadOnlyList<(string Name, Parameter Parameter)> NamedParameters()
    {
        var all = new List<(string, Parameter)> { ("source_embedding.weight", SourceEmbedding.WeightParameter), ("target_embedding.weight", TargetEmbedding.WeightParameter) };
        if (Positions is LearnedPositionalEncoding learned)
        {
            all.Add(("positional_encoding.weight", learned.Table.WeightParameter));
        }
        all.AddRange(Encoder.NamedParameters("encoder."));
        all.AddRange(Decoder.NamedParameters("decoder."));
        all.AddRange(LmHead.NamedParameters("lm_head.").Where(p => !(Options.TieOutputToEmbedding && p.Parameter == TargetEmbedding.WeightParameter)));
        return all;
    }

    /// <summary>Each sentence embedded (·√d_model) with its positions from 0, the sentences stacked, then dropout.</summary>
    private (Matrix<float> Embedded, Matrix<float>? DropoutMask) EmbedRecorded(Embedding embedding, IReadOnlyList<IReadOnlyList<int>> sentences)
    {
        var x = Storage.NewMatrix(sentences.Sum(s => s.Count), Options.ModelDim);
        var row = 0;
        foreach (var ids in sentences)
        {
            var e = embedding.Forward(ids);
            if (Options.ScaleEmbeddings)
            {
                e = e * MathF.Sqrt(Options.ModelDim);                                                // ·√d_model
            }
            x.SetSubMatrix(row, 0, Positions.Forward(e, 0));                                         // + PE of positions 0 … n − 1
            row += ids.Count;
        }
        return EmbeddingDropout.ForwardRecorded(x);
    }

    /// <summary>Back through dropout, then sentence by sentence through the positions (learned ones get the gradient
    /// of every position) and the scale into the embedding rows.</summary>
    private void EmbedBackward(Embedding embedding, IReadOnlyList<IReadOnlyList<int>> sentences, Matrix<float>? dropoutMask, Matrix<float> gradient)
    {
        gradient = Dropout.Backward(dropoutMask, gradient);
        var row = 0;
        foreach (var ids in sentences)
        {
            var part = sentences.Count == 1 ? gradient : gradient.SubMatrix(row, ids.Count, 0, Options.ModelDim);
            if (Positions is LearnedPositionalEncoding learned)
            {
                learned.Backward(0, part);                                                          // x + P[0..n): P gets ∂L/∂x
            }
            embedding.Backward(ids, Options.ScaleEmbeddings ? part * MathF.Sqrt(Options.ModelDim) : part);
            row += ids.Count;
        }
    }

    /// <summary>Switches dropout on (training) or off (evaluation, the default) everywhere.</summary>
    /// <param name="training">True for training mode.</param>
    public void SetTraining(bool training)
    {
        EmbeddingDropout.Training = training;
        Encoder.SetTraining(training);
        Decoder.SetTraining(training);
    }
}

/// <summary>What <see cref="Transformer.Backward"/> needs from the forward pass.</summary>
/// <param name="Sources">The source sentences (one for a single pair), stacked in this order.</param>
/// <param name="Targets">The target sentences, shifted right.</param>
/// <param name="SourceDropout">The dropout mask on the embedded source, or null.</param>
/// <param name="Encoder">The encoder stack's record.</param>
/// <param name="TargetDropout">The dropout mask on the embedded target, or null.</param>
/// <param name="Decoder">The decoder stack's record.</param>
/// <param name="Logits">[Σ target lengths × target vocab].</param>
public sealed record TransformerRecord(IReadOnlyList<IReadOnlyList<int>> Sources, IReadOnlyList<IReadOnlyList<int>> Targets, Matrix<float>? SourceDropout, TransformerEncoderRecord Encoder,
    Matrix<float>? TargetDropout, TransformerDecoderRecord Decoder, Matrix<float> Logits);
