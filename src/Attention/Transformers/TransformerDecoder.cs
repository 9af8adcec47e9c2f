// Figure 1, right: "The decoder is also composed of a stack of N = 6 identical layers" (§3.1).
using Attention.Kernels;
using Attention.Layers;
using Attention.Mechanisms;
using Attention.Randomness;
using Attention.Training;
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Transformers;

/// <summary>The decoder stack, PyTorch's <c>nn.TransformerDecoder</c>: N <see cref="DecoderLayer"/>s, then an optional final LayerNorm (<c>decoder.norm</c>).</summary>
public sealed class TransformerDecoder
{
    /// <summary>Creates N freshly initialised layers (and the final norm when <see cref="TransformerOptions.FinalNorm"/>).</summary>
    /// <param name="options">Sizes and switches.</param>
    /// <param name="generator">The random source.</param>
    public TransformerDecoder(TransformerOptions options, TorchGenerator generator)
        : this(TransformerOptions.Required(options), [.. Enumerable.Range(0, options.DecoderLayers).Select(_ => new DecoderLayer(options, generator))],
               options.FinalNorm ? new LayerNorm(options.ModelDim, options.LayerNormEpsilon) : null)
    {
    }

    private TransformerDecoder(TransformerOptions options, DecoderLayer[] layers, LayerNorm? norm) => (Options, Layers, Norm) = (options, layers, norm);

    /// <summary>The sizes and switches.</summary>
    public TransformerOptions Options { get; }

    /// <summary>The N layers, in order (<c>decoder.layers.0</c> first).</summary>
    public IReadOnlyList<DecoderLayer> Layers { get; }

    /// <summary>The final LayerNorm (<c>decoder.norm</c>), or null.</summary>
    public LayerNorm? Norm { get; }

    /// <summary>Reads <c>{prefix}layers.{i}.*</c> for i &lt; N and, with a final norm, <c>{prefix}norm.*</c>.</summary>
    /// <param name="state">Named parameters.</param>
    /// <param name="prefix">Usually <c>"decoder."</c>.</param>
    /// <param name="options">Sizes and switches.</param>
    /// <param name="generator">The source for dropout masks.</param>
    /// <returns>The decoder.</returns>
    public static TransformerDecoder FromStateDict(IReadOnlyDictionary<string, Matrix<float>> state, string prefix, TransformerOptions options, TorchGenerator generator)
    {
        ArgumentNullException.ThrowIfNull(options);
        var layers = Enumerable.Range(0, options.DecoderLayers).Select(i => DecoderLayer.FromStateDict(state, $"{prefix}layers.{i}.", options, generator)).ToArray();
        var norm = options.FinalNorm ? LayerNorm.FromStateDict(state, prefix + "norm.", options.ModelDim, options.LayerNormEpsilon) : null;
        return new TransformerDecoder(options, layers, norm);
    }

    /// <summary>The trainable parameters in <c>nn.TransformerDecoder</c>'s state_dict order and names: the layers, then the final norm.</summary>
    /// <param name="prefix">E.g. <c>"encoder."</c>.</param>
    /// <returns>Name and parameter pairs.</returns>
    public IEnumerable<(string Name, Parameter Parameter)> NamedParameters(string prefix = "") =>
        Layers.SelectMany((layer, i) => layer.NamedParameters($"{prefix}layers.{i}."))
            .Concat(Norm?.NamedParameters(prefix + "norm.") ?? []);

    /// <summary>Writes the parameters under <c>nn.TransformerDecoder</c> names.</summary>
    /// <param name="state">The dictionary to add to.</param>
    /// <param name="prefix">Usually <c>"decoder."</c>.</param>
    public void AddTo(IDictionary<string, Matrix<float>> state, string prefix)
    {
        for (var i = 0; i < Layers.Count; i++)
        {
            Layers[i].AddTo(state, $"{prefix}layers.{i}.");
        }
        Norm?.AddTo(state, prefix + "norm.");
    }

    /// <summary>An empty KV cache for decoding one sequence step by step with <see cref="ForwardWithCache"/>.</summary>
    /// <returns>A cache with one slot per layer.</returns>
    public DecoderCache CreateCache() => new(this, Layers.Count);

    /// <summary>The whole target at once: Norm(layer_N(… layer_1(y, memory) …, memory)).</summary>
    /// <param name="y">[m × d_model], embedded target tokens with positions; not modified.</param>
    /// <param name="memory">[n × d_model], the encoder's output.</param>
    /// <param name="targetMask">Self-attention mask fitting [m × m]; pass <see cref="AttentionMask.Causal"/> for autoregressive decoding.</param>
    /// <param name="memoryMask">Cross-attention mask fitting [m × n], usually source key padding.</param>
    /// <returns>[m × d_model], a new matrix.</returns>
    public Matrix<float> Forward(Matrix<float> y, Matrix<float> memory, AttentionMask? targetMask = null, AttentionMask? memoryMask = null)
    {
        Check(y, memory, targetMask, memoryMask);
        return Run(y, memory, targetMask, memoryMask, cache: null, weights: null);
    }

    /// <summary>The whole target at once, copied into <paramref name="result"/>: a convenience for callers that keep one
    /// output matrix. It saves no work: every layer's output is still a new matrix.</summary>
    /// <param name="y">[m × d_model], embedded target tokens with positions; not modified.</param>
    /// <param name="memory">[n × d_model], the encoder's output.</param>
    /// <param name="targetMask">Self-attention mask fitting [m × m], or null.</param>
    /// <param name="memoryMask">Cross-attention mask fitting [m × n], or null.</param>
    /// <param name="result">[m × d_model]; overwritten (it may be <paramref name="y"/> or <paramref name="memory"/>).</param>
    public void Forward(Matrix<float> y, Matrix<float> memory, AttentionMask? targetMask, AttentionMask? memoryMask, Matrix<float> result)
    {
        Check(y, memory, targetMask, memoryMask);
        Shapes.RequireShape(result, nameof(result), y.RowCount, Options.ModelDim, "one row per token of y");
        Run(y, memory, targetMask, memoryMask, cache: null, weights: null).CopyTo(result);
    }

    /// <summary>The forward pass for training over the whole target: every layer's record, and the final norm's input.</summary>
    /// <param name="y">[m × d_model], the embedded target.</param>
    /// <param name="memory">[n × d_model].</param>
    /// <param name="targetMask">Self-attention mask fitting [m × m], usually causal.</param>
    /// <param name="memoryMask">Cross-attention mask fitting [m × n].</param>
    /// <returns>The records and the output.</returns>
    public TransformerDecoderRecord ForwardRecorded(Matrix<float> y, Matrix<float> memory, AttentionMask? targetMask = null, AttentionMask? memoryMask = null)
    {
        Check(y, memory, targetMask, memoryMask);
        var records = new List<DecoderLayerRecord>();
        var h = y;
        foreach (var layer in Layers)
        {
            records.Add(layer.ForwardRecorded(h, memory, targetMask, memoryMask));
            h = records[^1].Output;                                                  // h = layer_i(h, memory)
        }
        return new TransformerDecoderRecord(records, h, Norm?.Forward(h) ?? h);
    }

    /// <summary>The backward pass: through the final norm, then the layers in reverse. Every layer reads the same memory,
    /// so their memory gradients add up.</summary>
    /// <param name="record">From <see cref="ForwardRecorded"/>.</param>
    /// <param name="outputGradient">∂L/∂output, [m × d_model].</param>
    /// <returns>∂L/∂y [m × d_model] and ∂L/∂memory [n × d_model].</returns>
    public (Matrix<float> Input, Matrix<float> Memory) Backward(TransformerDecoderRecord record, Matrix<float> outputGradient)
    {
        ArgumentNullException.ThrowIfNull(record);
        var gradient = Norm?.Backward(record.BeforeNorm, outputGradient) ?? outputGradient;
        Matrix<float>? memory = null;
        for (var i = Layers.Count - 1; i >= 0; i--)
        {
            var (input, memoryGradient) = Layers[i].Backward(record.Layers[i], gradient);
            (gradient, memory) = (input, memory is null ? memoryGradient : memory + memoryGradient);
        }
        return (gradient, memory ?? throw new InvalidOperationException("A decoder without layers does not read the memory."));
    }

    private void Check(Matrix<float> y, Matrix<float> memory, AttentionMask? targetMask, AttentionMask? memoryMask)
    {
        Shapes.RequireColumns(y, nameof(y), Options.ModelDim, "d_model");
        Shapes.RequireColumns(memory, nameof(memory), Options.ModelDim, "d_model");
        targetMask?.RequireFits(y.RowCount, y.RowCount, nameof(targetMask));
        memoryMask?.RequireFits(y.RowCount, memory.RowCount, nameof(memoryMask));
    }

    /// <summary>The next target rows only, using and extending <paramref name="cache"/>: equal to the last rows of the
    /// full causal <see cref="Forward(Matrix{float}, Matrix{float}, AttentionMask?, AttentionMask?)"/>, in O(t) per step.</summary>
    /// <param name="newRows">[r × d_model], the embedded new tokens (their positions continue from <c>cache.Length</c>).</param>
    /// <param name="memory">[n × d_model], the same memory at every step.</param>
    /// <param name="cache">From <see cref="CreateCache"/>; grows by r tokens.</param>
    /// <param name="memoryMask">Cross-attention mask fitting [r × n].</param>
    /// <returns>[r × d_model].</returns>
    public Matrix<float> ForwardWithCache(Matrix<float> newRows, Matrix<float> memory, DecoderCache cache, AttentionMask? memoryMask = null)
    {
        ArgumentNullException.ThrowIfNull(cache);
        Check(newRows, memory, null, memoryMask);
        return Run(newRows, memory, null, memoryMask, cache, weights: null);
    }

    /// <summary>The stack, with or without a cache, optionally recording every layer's averaged attention weights.</summary>
    internal Matrix<float> Run(Matrix<float> y, Matrix<float> memory, AttentionMask? targetMask, AttentionMask? memoryMask, DecoderCache? cache,
        List<(Matrix<float> Self, Matrix<float> Cross)>? weights)
    {
        if (cache is not null)
        {
            if (!cache.BelongsTo(this))
            {
                throw new ArgumentException("This cache was made by another decoder (TransformerDecoder.CreateCache): its keys and values belong to that decoder's layers.", nameof(cache));
            }
            cache.RequireMemory(memory);
        }
        var h = y;
        for (var i = 0; i < Layers.Count; i++)
        {
            h = Layers[i].Forward(h, memory, targetMask, memoryMask, cache?[i], weights);   // h = layer_i(h, memory)
        }
        return Norm?.Forward(h) ?? (ReferenceEquals(h, y) ? y.Clone() : h);                // Norm(h), when the stack has a final norm
    }

    /// <summary>Switches dropout on (training) or off (evaluation) in every layer.</summary>
    /// <param name="training">True for training mode.</param>
    public void SetTraining(bool training)
    {
        foreach (var layer in Layers)
        {
            layer.SetTraining(training);
        }
    }
}

/// <summary>What <see cref="TransformerDecoder.Backward"/> needs: each layer's record and the final norm's input.</summary>
/// <param name="Layers">The layers' records, first layer first.</param>
/// <param name="BeforeNorm">The last layer's output, which the final norm (if any) normalised.</param>
/// <param name="Output">The decoder's output.</param>
public sealed record TransformerDecoderRecord(IReadOnlyList<DecoderLayerRecord> Layers, Matrix<float> BeforeNorm, Matrix<float> Output);
