// "Attention Is All You Need", §3.1 and Figure 1 (left): each encoder layer has two sub-layers, multi-head
// self-attention and a position-wise feed-forward network, each wrapped as LayerNorm(x + Dropout(Sublayer(x))).
// Pre-norm (x + Dropout(Sublayer(LayerNorm(x))), Xiong et al., 2020) is the modern option, PyTorch's norm_first=True.
using Attention.Inference;
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
    }

    private EncoderLayer(TransformerOptions options, MultiHeadAttention selfAttention, FeedForward feedForward, LayerNorm norm1, LayerNorm norm2, TorchGenerator generator)
    {
        (Options, SelfAttention, FeedForward, Norm1, Norm2) = (options, selfAttention, feedForward, norm1, norm2);
        (Dropout1, Dropout2) = (new Dropout(options.Dropout, generator), new Dropout(options.Dropout, generator));
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
    /// <param name="x">[n × d_model], one row per source token; not modified.</param>
    /// <param name="mask">Optional mask fitting [n × n], e.g. <see cref="AttentionMask.KeyPadding(bool[])"/> for padded sources.</param>
    /// <returns>[n × d_model].</returns>
    public Matrix<float> Forward(Matrix<float> x, AttentionMask? mask = null)
    {
        Shapes.RequireColumns(x, nameof(x), Options.ModelDim, "d_model");
        var result = Storage.NewMatrix(x.RowCount, Options.ModelDim);
        Forward(x, mask, result);
        return result;
    }

    /// <summary>The same layer, its last step written into <paramref name="result"/> instead of a new matrix (MathNet's
    /// <c>Multiply(other, result)</c> pattern). The sub-layers' own outputs are still new matrices.</summary>
    /// <param name="x">[n × d_model], one row per source token; not modified.</param>
    /// <param name="mask">Optional mask fitting [n × n], or null.</param>
    /// <param name="result">[n × d_model], a dense matrix; overwritten (it may be <paramref name="x"/>).</param>
    public void Forward(Matrix<float> x, AttentionMask? mask, Matrix<float> result)
    {
        Shapes.RequireColumns(x, nameof(x), Options.ModelDim, "d_model");
        Shapes.RequireShape(result, nameof(result), x.RowCount, Options.ModelDim, "one row per token of x");
        mask?.RequireFits(x.RowCount, x.RowCount, nameof(mask));
        Shapes.RequireDense(result, nameof(result));
        if (FastPath.Applies(Dropout1, Dropout2, FeedForward.Dropout))
        {
            FastPath.Encoder(this, x, mask, result);   // the same steps over reused scratch memory (Inference/FastPath.cs)
            return;
        }
        if (Options.NormFirst)
        {
            var attended = SelfAttention.Forward(Norm1.Forward(x), mask, needWeights: false).Output; // MultiHead(LN(x)), W_O included
            var x1 = Elementwise.Add(x, Dropout1.Forward(attended));                                  // x₁ = x + Dropout(·)
            var fed = FeedForward.Forward(Norm2.Forward(x1));                                         // FFN(LN(x₁))
            Elementwise.Add(x1, Dropout2.Forward(fed), result);                                       // x₁ + Dropout(·)
        }
        else
        {
            var attended = SelfAttention.Forward(x, mask, needWeights: false).Output;                 // MultiHead(x, x, x), W_O included
            var x1 = Norm1.Forward(x, Dropout1.Forward(attended));                                    // x₁ = LayerNorm(x + Dropout(·))
            var fed = FeedForward.Forward(x1);                                                        // FFN(x₁)
            Norm2.Forward(x1, Dropout2.Forward(fed), result);                                         // LayerNorm(x₁ + Dropout(·))
        }
    }

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
