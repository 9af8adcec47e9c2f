// "Attention Is All You Need", §3.1 and Figure 1 (left): each encoder layer has two sub-layers, multi-head
// self-attention and a position-wise feed-forward network, each wrapped as LayerNorm(x + Dropout(Sublayer(x))).
// Pre-norm (x + Dropout(Sublayer(LayerNorm(x))), Xiong et al., 2020) is the modern option, PyTorch's norm_first=True.
using Attention.Kernels;
using Attention.Layers;
using Attention.Mechanisms;
using Attention.Randomness;
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Transformers;

/// <summary>One encoder layer, equal to PyTorch's <c>nn.TransformerEncoderLayer</c> (batch_first): self-attention, then feed-forward,
/// each with a residual connection and a LayerNorm (after the sum by default, as the paper; before the sub-layer with <c>NormFirst</c>).</summary>
public sealed class EncoderLayer
{
    /// <summary>Creates a layer with PyTorch's initialisation order: self_attn, linear1, linear2 (norms start at γ = 1, β = 0).</summary>
    /// <param name="options">d_model, h, d_ff, dropout, activation, norm position and ε.</param>
    /// <param name="generator">The random source for weights and dropout.</param>
    public EncoderLayer(TransformerOptions options, TorchGenerator generator)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(generator);
        Options = options;
        SelfAttention = new MultiHeadAttention(options.ModelDim, options.HeadCount, generator);
        FeedForward = new FeedForward(options.ModelDim, options.FeedForwardDim, options.Activation, generator, options.Dropout);
        (Norm1, Norm2) = (new LayerNorm(options.ModelDim, options.LayerNormEpsilon), new LayerNorm(options.ModelDim, options.LayerNormEpsilon));
        (Dropout1, Dropout2) = (new Dropout(options.Dropout, generator), new Dropout(options.Dropout, generator));
        _tail = new PositionWiseTail(options.NormFirst, SelfAttention.OutputProjection, Dropout1, Norm1, FeedForward, Dropout2, Norm2);
    }

    private EncoderLayer(TransformerOptions options, MultiHeadAttention selfAttention, FeedForward feedForward, LayerNorm norm1, LayerNorm norm2, TorchGenerator generator)
    {
        (Options, SelfAttention, FeedForward, Norm1, Norm2) = (options, selfAttention, feedForward, norm1, norm2);
        (Dropout1, Dropout2) = (new Dropout(options.Dropout, generator), new Dropout(options.Dropout, generator));
        _tail = new PositionWiseTail(options.NormFirst, SelfAttention.OutputProjection, Dropout1, Norm1, FeedForward, Dropout2, Norm2);
    }

    /// <summary>The sizes and switches this layer was built with.</summary>
    public TransformerOptions Options { get; }

    /// <summary>Multi-head self-attention (<c>self_attn</c>).</summary>
    public MultiHeadAttention SelfAttention { get; }

    /// <summary>The feed-forward network (<c>linear1</c>, <c>linear2</c>).</summary>
    public FeedForward FeedForward { get; }

    /// <summary>The LayerNorm of the attention sub-layer (<c>norm1</c>).</summary>
    public LayerNorm Norm1 { get; }

    /// <summary>The LayerNorm of the feed-forward sub-layer (<c>norm2</c>).</summary>
    public LayerNorm Norm2 { get; }

    /// <summary>Dropout on the attention output before the residual sum.</summary>
    public Dropout Dropout1 { get; }

    /// <summary>Dropout on the feed-forward output before the residual sum.</summary>
    public Dropout Dropout2 { get; }

    /// <summary>Reads a layer saved under <c>nn.TransformerEncoderLayer</c> names: <c>{prefix}self_attn.*</c>, <c>linear1.*</c>, <c>linear2.*</c>, <c>norm1.*</c>, <c>norm2.*</c>.</summary>
    /// <param name="state">Named parameters.</param>
    /// <param name="prefix">E.g. <c>"encoder.layers.0."</c>.</param>
    /// <param name="options">Sizes to check the shapes against.</param>
    /// <param name="generator">The source for dropout masks.</param>
    /// <returns>The layer.</returns>
    public static EncoderLayer FromStateDict(IReadOnlyDictionary<string, Matrix<float>> state, string prefix, TransformerOptions options, TorchGenerator generator)
    {
        ArgumentNullException.ThrowIfNull(options);
        var attention = LoadAttention(state, prefix + "self_attn.", options);
        var feedForward = Layers.FeedForward.FromStateDict(state, prefix, options.ModelDim, options.FeedForwardDim, options.Activation, new Dropout(options.Dropout, generator));
        return new EncoderLayer(options, attention, feedForward,
            LayerNorm.FromStateDict(state, prefix + "norm1.", options.ModelDim, options.LayerNormEpsilon),
            LayerNorm.FromStateDict(state, prefix + "norm2.", options.ModelDim, options.LayerNormEpsilon), generator);
    }

    /// <summary>Writes the parameters under <c>nn.TransformerEncoderLayer</c> names.</summary>
    /// <param name="state">The dictionary to add to.</param>
    /// <param name="prefix">E.g. <c>"encoder.layers.0."</c>.</param>
    public void AddTo(IDictionary<string, Matrix<float>> state, string prefix)
    {
        SelfAttention.AddTo(state, prefix + "self_attn.");
        FeedForward.AddTo(state, prefix);
        Norm1.AddTo(state, prefix + "norm1.");
        Norm2.AddTo(state, prefix + "norm2.");
    }

    /// <summary>Post-norm: x = Norm1(x + SelfAttention(x)); x = Norm2(x + FFN(x)). Pre-norm: x = x + SelfAttention(Norm1(x)); x = x + FFN(Norm2(x)).</summary>
    /// <param name="x">[n × d_model], one row per source token.</param>
    /// <param name="mask">Optional mask fitting [n × n], e.g. <see cref="AttentionMask.KeyPadding(bool[])"/> for padded sources.</param>
    /// <returns>[n × d_model].</returns>
    public Matrix<float> Forward(Matrix<float> x, AttentionMask? mask = null)
    {
        Shapes.RequireColumns(x, nameof(x), Options.ModelDim, "d_model");
        mask?.RequireFits(x.RowCount, x.RowCount, nameof(mask));
        var output = Storage.NewArray(x.RowCount * Options.ModelDim);
        Run(Storage.ColumnMajor(x), x.RowCount, mask, output);
        return Storage.Wrap(x.RowCount, Options.ModelDim, output);
    }

    /// <summary>The same layer, written into <paramref name="result"/> instead of a new matrix (MathNet's
    /// <c>Multiply(other, result)</c> pattern): a loop over many inputs of one size then allocates nothing.</summary>
    /// <param name="x">[n × d_model], one row per source token.</param>
    /// <param name="mask">Optional mask fitting [n × n], or null.</param>
    /// <param name="result">[n × d_model], a dense matrix other than <paramref name="x"/>; overwritten.</param>
    /// <remarks>A new 1 MB result per call (512 tokens) costs the collector a gen-2 collection every fourth call here,
    /// and such a call about 3 ms more on two cores.</remarks>
    public void Forward(Matrix<float> x, AttentionMask? mask, Matrix<float> result)
    {
        Shapes.RequireColumns(x, nameof(x), Options.ModelDim, "d_model");
        Shapes.RequireShape(result, nameof(result), x.RowCount, Options.ModelDim, "one row per token of x");
        mask?.RequireFits(x.RowCount, x.RowCount, nameof(mask));
        var output = Shapes.DenseArray(result, nameof(result));
        var input = Storage.ColumnMajor(x);
        Shapes.RequireSeparate(output, nameof(result), input, nameof(x));
        Run(input, x.RowCount, mask, output);
    }

    /// <summary>The layer over column-major [n × d_model] arrays (longer arrays are fine); arguments already checked, and
    /// <paramref name="output"/> is not <paramref name="input"/>.</summary>
    internal void Run(float[] input, int n, AttentionMask? mask, float[] output)
    {
        // Only the result is new memory: the sub-layer outputs live in per-thread scratch (column-major [n × d_model]).
        var size = n * Options.ModelDim;
        var heads = Scratch.Rent(ref _heads, size);
        if (Options.NormFirst)
        {
            var normed = Scratch.Rent(ref _normed, size).AsSpan(0, size);
            Norm1.Forward(input, n, normed);                                           // LayerNorm(x)
            SelfAttention.Heads(normed, n, normed, normed, n, mask, heads.AsSpan(0, size));  // Attention(·), before W_O
        }
        else
        {
            SelfAttention.Heads(input, n, input, input, n, mask, heads.AsSpan(0, size));     // Attention(x), before W_O
        }
        _tail.Forward(input, heads, n, output);                                       // ·W_O, add & norm, FFN, add & norm
    }

    /// <summary>Everything after the self-attention's heads: per token, so split into token blocks on several cores.</summary>
    private readonly PositionWiseTail _tail;

    [ThreadStatic]
    private static float[]? _heads;

    [ThreadStatic]
    private static float[]? _normed;

    /// <summary>Switches dropout on (training) or off (evaluation).</summary>
    /// <param name="training">True for training mode.</param>
    public void SetTraining(bool training) => Dropout1.Training = Dropout2.Training = FeedForward.Dropout.Training = training;

    internal static MultiHeadAttention LoadAttention(IReadOnlyDictionary<string, Matrix<float>> state, string prefix, TransformerOptions options)
    {
        var attention = MultiHeadAttention.FromStateDict(state, options.HeadCount, prefix);
        if (attention.ModelDim != options.ModelDim)
        {
            throw new ArgumentException($"Parameter '{prefix}out_proj.weight' has d_model = {attention.ModelDim}, but the options say d_model = {options.ModelDim}.", nameof(state));
        }
        return attention;
    }
}
