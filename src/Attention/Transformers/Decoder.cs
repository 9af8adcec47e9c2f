// Figure 1, right: "The decoder is also composed of a stack of N = 6 identical layers" (§3.1).
using Attention.Kernels;
using Attention.Layers;
using Attention.Mechanisms;
using Attention.Randomness;
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Transformers;

/// <summary>The decoder stack, PyTorch's <c>nn.TransformerDecoder</c>: N <see cref="DecoderLayer"/>s, then an optional final LayerNorm (<c>decoder.norm</c>).</summary>
public sealed class Decoder
{
    /// <summary>Creates N freshly initialised layers (and the final norm when <see cref="TransformerOptions.FinalNorm"/>).</summary>
    /// <param name="options">Sizes and switches.</param>
    /// <param name="generator">The random source.</param>
    public Decoder(TransformerOptions options, TorchGenerator generator)
        : this(options, [.. Enumerable.Range(0, options.DecoderLayers).Select(_ => new DecoderLayer(options, generator))],
               options.FinalNorm ? new LayerNorm(options.ModelDim, options.LayerNormEpsilon) : null)
    {
    }

    private Decoder(TransformerOptions options, DecoderLayer[] layers, LayerNorm? norm) => (Options, Layers, Norm) = (options, layers, norm);

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
    public static Decoder FromStateDict(IReadOnlyDictionary<string, Matrix<float>> state, string prefix, TransformerOptions options, TorchGenerator generator)
    {
        ArgumentNullException.ThrowIfNull(options);
        var layers = Enumerable.Range(0, options.DecoderLayers).Select(i => DecoderLayer.FromStateDict(state, $"{prefix}layers.{i}.", options, generator)).ToArray();
        var norm = options.FinalNorm ? LayerNorm.FromStateDict(state, prefix + "norm.", options.ModelDim, options.LayerNormEpsilon) : null;
        return new Decoder(options, layers, norm);
    }

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

    /// <summary>An empty KV cache for decoding one sequence step by step with <see cref="Forward(Matrix{float}, Matrix{float}, DecoderCache, AttentionMask?)"/>.</summary>
    /// <returns>A cache with one slot per layer.</returns>
    public DecoderCache CreateCache() => new(Layers.Count);

    /// <summary>The whole target at once.</summary>
    /// <param name="y">[m × d_model], embedded target tokens with positions.</param>
    /// <param name="memory">[n × d_model], the encoder's output.</param>
    /// <param name="targetMask">Self-attention mask fitting [m × m]; pass <see cref="AttentionMask.Causal"/> for autoregressive decoding.</param>
    /// <param name="memoryMask">Cross-attention mask fitting [m × n], usually source key padding.</param>
    /// <returns>[m × d_model].</returns>
    public Matrix<float> Forward(Matrix<float> y, Matrix<float> memory, AttentionMask? targetMask = null, AttentionMask? memoryMask = null)
    {
        Check(y, memory, targetMask, memoryMask);
        var output = Storage.NewArray(y.RowCount * Options.ModelDim);
        WholeSequence(Storage.ColumnMajor(y), y.RowCount, Storage.ColumnMajor(memory), memory.RowCount, targetMask, memoryMask, output);
        return Storage.Wrap(y.RowCount, Options.ModelDim, output);
    }

    /// <summary>The whole target at once, written into <paramref name="result"/> instead of a new matrix (MathNet's
    /// <c>Multiply(other, result)</c> pattern): a loop over many inputs of one size then allocates nothing.</summary>
    /// <param name="y">[m × d_model], embedded target tokens with positions.</param>
    /// <param name="memory">[n × d_model], the encoder's output.</param>
    /// <param name="targetMask">Self-attention mask fitting [m × m], or null.</param>
    /// <param name="memoryMask">Cross-attention mask fitting [m × n], or null.</param>
    /// <param name="result">[m × d_model], a dense matrix other than <paramref name="y"/> and <paramref name="memory"/>; overwritten.</param>
    public void Forward(Matrix<float> y, Matrix<float> memory, AttentionMask? targetMask, AttentionMask? memoryMask, Matrix<float> result)
    {
        Check(y, memory, targetMask, memoryMask);
        Shapes.RequireShape(result, nameof(result), y.RowCount, Options.ModelDim, "one row per token of y");
        var (input, source, output) = (Storage.ColumnMajor(y), Storage.ColumnMajor(memory), Shapes.DenseArray(result, nameof(result)));
        Shapes.RequireSeparate(output, nameof(result), input, nameof(y));
        Shapes.RequireSeparate(output, nameof(result), source, nameof(memory));
        WholeSequence(input, y.RowCount, source, memory.RowCount, targetMask, memoryMask, output);
    }

    private void Check(Matrix<float> y, Matrix<float> memory, AttentionMask? targetMask, AttentionMask? memoryMask)
    {
        Shapes.RequireColumns(y, nameof(y), Options.ModelDim, "d_model");
        Shapes.RequireColumns(memory, nameof(memory), Options.ModelDim, "d_model");
        targetMask?.RequireFits(y.RowCount, y.RowCount, nameof(targetMask));
        memoryMask?.RequireFits(y.RowCount, memory.RowCount, nameof(memoryMask));
    }

    /// <summary>Each layer reads the previous one's output from this thread's scratch, two buffers in turn, and the last
    /// step (the last layer, or the final norm) writes <paramref name="output"/> (as in <see cref="Encoder"/>).</summary>
    private void WholeSequence(float[] input, int n, float[] source, int m, AttentionMask? targetMask, AttentionMask? memoryMask, float[] output)
    {
        var size = n * Options.ModelDim;
        var current = input;
        for (var i = 0; i < Layers.Count; i++)
        {
            var next = i == Layers.Count - 1 && Norm is null ? output : StackBuffers.After(current, size);
            Layers[i].WholeSequence(current, n, source, m, targetMask, memoryMask, next);
            current = next;
        }
        if (Norm is not null)
        {
            Norm.Forward(current.AsSpan(0, size), n, output.AsSpan(0, size));
        }
        else if (Layers.Count == 0)
        {
            input.AsSpan(0, size).CopyTo(output);
        }
    }

    /// <summary>The next target rows only, using and extending <paramref name="cache"/>: equal to the last rows of the
    /// full causal <see cref="Forward(Matrix{float}, Matrix{float}, AttentionMask?, AttentionMask?)"/>, in O(t) per step.</summary>
    /// <param name="newRows">[r × d_model], the embedded new tokens (their positions continue from <c>cache.Length</c>).</param>
    /// <param name="memory">[n × d_model], the same memory at every step.</param>
    /// <param name="cache">From <see cref="CreateCache"/>; grows by r tokens.</param>
    /// <param name="memoryMask">Cross-attention mask fitting [r × n].</param>
    /// <returns>[r × d_model].</returns>
    public Matrix<float> Forward(Matrix<float> newRows, Matrix<float> memory, DecoderCache cache, AttentionMask? memoryMask = null)
    {
        ArgumentNullException.ThrowIfNull(cache);
        return Run(newRows, memory, null, memoryMask, cache, weights: null);
    }

    internal Matrix<float> Run(Matrix<float> y, Matrix<float> memory, AttentionMask? targetMask, AttentionMask? memoryMask, DecoderCache? cache, List<(Matrix<float> Self, Matrix<float> Cross)>? weights)
    {
        if (cache is null && weights is null)
        {
            return Forward(y, memory, targetMask, memoryMask);
        }
        for (var i = 0; i < Layers.Count; i++)
        {
            y = Layers[i].Forward(y, memory, targetMask, memoryMask, cache?[i], weights);
        }
        return Norm?.Forward(y) ?? y;
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
