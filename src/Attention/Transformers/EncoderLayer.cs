// "Attention Is All You Need", §3.1 and Figure 1 (left): each encoder layer has two sub-layers, multi-head
// self-attention and a position-wise feed-forward network, each wrapped as LayerNorm(x + Dropout(Sublayer(x))).
// Pre-norm (x + Dropout(Sublayer(LayerNorm(x))), Xiong et al., 2020) is the modern option, PyTorch's norm_first=True.
using Attention.Inference;
using Attention.Kernels;
using Attention.Layers;
using Attention.Mechanisms;
using Attention.Randomness;
using Attention.Training;
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
        SelfAttention.AttentionDropout = new Dropout(options.Dropout, generator);   // nn.TransformerEncoderLayer's self_attn has dropout=p
    }

    private EncoderLayer(TransformerOptions options, MultiHeadAttention selfAttention, FeedForward feedForward, LayerNorm norm1, LayerNorm norm2, TorchGenerator generator)
    {
        (Options, SelfAttention, FeedForward, Norm1, Norm2) = (options, selfAttention, feedForward, norm1, norm2);
        (Dropout1, Dropout2) = (new Dropout(options.Dropout, generator), new Dropout(options.Dropout, generator));
        SelfAttention.AttentionDropout = new Dropout(options.Dropout, generator);   // nn.TransformerEncoderLayer's self_attn has dropout=p
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

    /// <summary>The trainable parameters in <c>nn.TransformerEncoderLayer</c>'s state_dict order and names (the attention's
    /// as <see cref="MultiHeadAttention.NamedParameters"/> names them).</summary>
    /// <param name="prefix">E.g. <c>"encoder.layers.0."</c>.</param>
    /// <returns>Name and parameter pairs.</returns>
    public IEnumerable<(string Name, Parameter Parameter)> NamedParameters(string prefix = "") =>
        SelfAttention.NamedParameters(prefix + "self_attn.")
            .Concat(FeedForward.NamedParameters(prefix))
            .Concat(Norm1.NamedParameters(prefix + "norm1."))
            .Concat(Norm2.NamedParameters(prefix + "norm2."));

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
        if (FastPath.Applies(Dropout1, Dropout2, FeedForward.Dropout, SelfAttention.AttentionDropout))
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

    /// <summary>The forward pass for training (the readable path, dropout as set), keeping what <see cref="Backward"/> needs.</summary>
    /// <param name="x">[n × d_model].</param>
    /// <param name="mask">Optional mask fitting [n × n].</param>
    /// <returns>The record; its <see cref="EncoderLayerRecord.Output"/> is the layer's output.</returns>
    public EncoderLayerRecord ForwardRecorded(Matrix<float> x, AttentionMask? mask = null)
    {
        Shapes.RequireColumns(x, nameof(x), Options.ModelDim, "d_model");
        mask?.RequireFits(x.RowCount, x.RowCount, nameof(mask));
        var attentionInput = Options.NormFirst ? Norm1.Forward(x) : x;                   // LN(x) first in pre-norm
        var attention = SelfAttention.ForwardRecorded(attentionInput, attentionInput, attentionInput, mask);
        var (attended, mask1) = Dropout1.ForwardRecorded(attention.Output);
        var sum1 = Elementwise.Add(x, attended);                                         // x + Dropout(MultiHead(·))
        var x1 = Options.NormFirst ? sum1 : Norm1.Forward(sum1);
        var feedForward = FeedForward.ForwardRecorded(Options.NormFirst ? Norm2.Forward(x1) : x1);
        var (fed, mask2) = Dropout2.ForwardRecorded(feedForward.Output);
        var sum2 = Elementwise.Add(x1, fed);                                             // x₁ + Dropout(FFN(·))
        var output = Options.NormFirst ? sum2 : Norm2.Forward(sum2);
        return new EncoderLayerRecord(x, attentionInput, attention, mask1, sum1, x1, feedForward, mask2, sum2, output);
    }

    /// <summary>The backward pass: adds every parameter's gradient and returns ∂L/∂x.</summary>
    /// <param name="record">From <see cref="ForwardRecorded"/>.</param>
    /// <param name="outputGradient">∂L/∂output, [n × d_model].</param>
    /// <returns>∂L/∂x, [n × d_model].</returns>
    /// <remarks>The forward pass read backwards. A residual sum a + b passes its gradient to both a and b unchanged;
    /// self-attention reads its input three times (query, key, value), so the three gradients add up.</remarks>
    public Matrix<float> Backward(EncoderLayerRecord record, Matrix<float> outputGradient)
    {
        ArgumentNullException.ThrowIfNull(record);
        var dSum2 = Options.NormFirst ? outputGradient : Norm2.Backward(record.Sum2, outputGradient);        // through norm2 (post-norm)
        var dFed = FeedForward.Backward(record.FeedForward, Dropout.Backward(record.Mask2, dSum2));        // through Dropout, FFN
        var dX1 = Options.NormFirst ? dSum2 + Norm2.Backward(record.X1, dFed) : dSum2 + dFed;            // the residual x₁ + ·
        var dSum1 = Options.NormFirst ? dX1 : Norm1.Backward(record.Sum1, dX1);                            // through norm1 (post-norm)
        var attention = SelfAttention.Backward(record.Attention, Dropout.Backward(record.Mask1, dSum1));
        var dAttentionInput = attention.Queries + attention.Keys + attention.Values;                       // x read three times
        return dSum1 + (Options.NormFirst ? Norm1.Backward(record.Input, dAttentionInput) : dAttentionInput); // the residual x + ·
    }

    /// <summary>Switches dropout on (training) or off (evaluation).</summary>
    /// <param name="training">True for training mode.</param>
    public void SetTraining(bool training) =>
        Dropout1.Training = Dropout2.Training = FeedForward.Dropout.Training = SelfAttention.AttentionDropout.Training = training;

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

/// <summary>What <see cref="EncoderLayer.Backward"/> needs from the forward pass.</summary>
/// <param name="Input">x.</param>
/// <param name="AttentionInput">x (post-norm) or LN₁(x) (pre-norm).</param>
/// <param name="Attention">The self-attention's record.</param>
/// <param name="Mask1">The dropout mask after attention, or null.</param>
/// <param name="Sum1">x + Dropout(attention).</param>
/// <param name="X1">The sub-layer's result: LN₁(Sum1) (post-norm) or Sum1 (pre-norm).</param>
/// <param name="FeedForward">The feed-forward network's record.</param>
/// <param name="Mask2">The dropout mask after the feed-forward network, or null.</param>
/// <param name="Sum2">x₁ + Dropout(FFN).</param>
/// <param name="Output">The layer's output.</param>
public sealed record EncoderLayerRecord(Matrix<float> Input, Matrix<float> AttentionInput, MultiHeadAttentionRecord Attention, Matrix<float>? Mask1,
    Matrix<float> Sum1, Matrix<float> X1, FeedForwardRecord FeedForward, Matrix<float>? Mask2, Matrix<float> Sum2, Matrix<float> Output);
