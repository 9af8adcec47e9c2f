// "Attention Is All You Need", §3.1 and Figure 1 (right): "In addition to the two sub-layers in each encoder layer,
// the decoder inserts a third sub-layer, which performs multi-head attention over the output of the encoder stack."
//   post-norm:  x = Norm1(x + MaskedSelfAttention(x));  x = Norm2(x + CrossAttention(x, memory));  x = Norm3(x + FFN(x))
using Attention.Inference;
using Attention.Kernels;
using Attention.Layers;
using Attention.Mechanisms;
using Attention.Randomness;
using Attention.Training;
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Transformers;

/// <summary>One decoder layer, equal to PyTorch's <c>nn.TransformerDecoderLayer</c> (batch_first): masked self-attention,
/// cross-attention over the encoder's memory, feed-forward, each with a residual connection and a LayerNorm.</summary>
public sealed class DecoderLayer
{
    private static readonly string[] NormNames = ["norm1.", "norm2.", "norm3."];

    /// <summary>Creates a layer with PyTorch's initialisation order: self_attn, multihead_attn, linear1, linear2.</summary>
    /// <param name="options">Sizes and switches.</param>
    /// <param name="generator">The random source for weights and dropout.</param>
    public DecoderLayer(TransformerOptions options, TorchGenerator generator)
        : this(TransformerOptions.Required(options),
               new MultiHeadAttention(options.ModelDim, options.HeadCount, generator),
               new MultiHeadAttention(options.ModelDim, options.HeadCount, generator),
               new FeedForward(options.ModelDim, options.FeedForwardDim, options.Activation, generator, options.Dropout),
               [new LayerNorm(options.ModelDim, options.LayerNormEpsilon), new LayerNorm(options.ModelDim, options.LayerNormEpsilon), new LayerNorm(options.ModelDim, options.LayerNormEpsilon)],
               generator)
    {
    }

    private DecoderLayer(TransformerOptions options, MultiHeadAttention selfAttention, MultiHeadAttention crossAttention, FeedForward feedForward, LayerNorm[] norms, TorchGenerator generator)
    {
        (Options, SelfAttention, CrossAttention, FeedForward) = (options, selfAttention, crossAttention, feedForward);
        (Norm1, Norm2, Norm3) = (norms[0], norms[1], norms[2]);
        (Dropout1, Dropout2, Dropout3) = (new Dropout(options.Dropout, generator), new Dropout(options.Dropout, generator), new Dropout(options.Dropout, generator));
        SelfAttention.AttentionDropout = new Dropout(options.Dropout, generator);    // both attentions of nn.TransformerDecoderLayer have dropout=p
        CrossAttention.AttentionDropout = new Dropout(options.Dropout, generator);
    }

    /// <summary>The sizes and switches.</summary>
    public TransformerOptions Options { get; }

    /// <summary>Masked multi-head self-attention over the target (<c>self_attn</c>).</summary>
    public MultiHeadAttention SelfAttention { get; }

    /// <summary>Multi-head attention from the target to the encoder's memory (<c>multihead_attn</c>).</summary>
    public MultiHeadAttention CrossAttention { get; }

    /// <summary>The feed-forward network (<c>linear1</c>, <c>linear2</c>).</summary>
    public FeedForward FeedForward { get; }

    /// <summary>LayerNorm of the self-attention sub-layer (<c>norm1</c>).</summary>
    public LayerNorm Norm1 { get; }

    /// <summary>LayerNorm of the cross-attention sub-layer (<c>norm2</c>).</summary>
    public LayerNorm Norm2 { get; }

    /// <summary>LayerNorm of the feed-forward sub-layer (<c>norm3</c>).</summary>
    public LayerNorm Norm3 { get; }

    /// <summary>Dropout on the self-attention output.</summary>
    public Dropout Dropout1 { get; }

    /// <summary>Dropout on the cross-attention output.</summary>
    public Dropout Dropout2 { get; }

    /// <summary>Dropout on the feed-forward output.</summary>
    public Dropout Dropout3 { get; }

    /// <summary>Reads a layer saved under <c>nn.TransformerDecoderLayer</c> names: <c>self_attn.*</c>, <c>multihead_attn.*</c>, <c>linear1.*</c>, <c>linear2.*</c>, <c>norm1.*</c> … <c>norm3.*</c>.</summary>
    /// <param name="state">Named parameters.</param>
    /// <param name="prefix">E.g. <c>"decoder.layers.0."</c>.</param>
    /// <param name="options">Sizes to check the shapes against.</param>
    /// <param name="generator">The source for dropout masks.</param>
    /// <returns>The layer.</returns>
    public static DecoderLayer FromStateDict(IReadOnlyDictionary<string, Matrix<float>> state, string prefix, TransformerOptions options, TorchGenerator generator)
    {
        ArgumentNullException.ThrowIfNull(options);
        var norms = NormNames.Select(n => LayerNorm.FromStateDict(state, prefix + n, options.ModelDim, options.LayerNormEpsilon)).ToArray();
        return new DecoderLayer(options,
            EncoderLayer.LoadAttention(state, prefix + "self_attn.", options),
            EncoderLayer.LoadAttention(state, prefix + "multihead_attn.", options),
            Layers.FeedForward.FromStateDict(state, prefix, options.ModelDim, options.FeedForwardDim, options.Activation, new Dropout(options.Dropout, generator)),
            norms, generator);
    }

    /// <summary>The trainable parameters in <c>nn.TransformerDecoderLayer</c>'s state_dict order and names (the
    /// attentions' as <see cref="MultiHeadAttention.NamedParameters"/> names them).</summary>
    /// <param name="prefix">E.g. <c>"decoder.layers.0."</c>.</param>
    /// <returns>Name and parameter pairs.</returns>
    public IEnumerable<(string Name, Parameter Parameter)> NamedParameters(string prefix = "") =>
        SelfAttention.NamedParameters(prefix + "self_attn.")
            .Concat(CrossAttention.NamedParameters(prefix + "multihead_attn."))
            .Concat(FeedForward.NamedParameters(prefix))
            .Concat(Norm1.NamedParameters(prefix + "norm1."))
            .Concat(Norm2.NamedParameters(prefix + "norm2."))
            .Concat(Norm3.NamedParameters(prefix + "norm3."));

    /// <summary>Writes the parameters under <c>nn.TransformerDecoderLayer</c> names.</summary>
    /// <param name="state">The dictionary to add to.</param>
    /// <param name="prefix">E.g. <c>"decoder.layers.0."</c>.</param>
    public void AddTo(IDictionary<string, Matrix<float>> state, string prefix)
    {
        SelfAttention.AddTo(state, prefix + "self_attn.");
        CrossAttention.AddTo(state, prefix + "multihead_attn.");
        FeedForward.AddTo(state, prefix);
        Norm1.AddTo(state, prefix + "norm1.");
        Norm2.AddTo(state, prefix + "norm2.");
        Norm3.AddTo(state, prefix + "norm3.");
    }

    /// <summary>The three sub-layers over the whole target at once.</summary>
    /// <param name="x">[m × d_model], embedded target tokens with positions; not modified.</param>
    /// <param name="memory">[n × d_model], the encoder's output.</param>
    /// <param name="targetMask">Mask fitting [m × m] for self-attention, usually <see cref="AttentionMask.Causal"/>.</param>
    /// <param name="memoryMask">Mask fitting [m × n] for cross-attention, usually source key padding.</param>
    /// <returns>[m × d_model].</returns>
    public Matrix<float> Forward(Matrix<float> x, Matrix<float> memory, AttentionMask? targetMask = null, AttentionMask? memoryMask = null)
    {
        Check(x, memory, targetMask, memoryMask);
        var result = Storage.NewMatrix(x.RowCount, Options.ModelDim);
        Forward(x, memory, targetMask, memoryMask, cache: null, weights: null, result);
        return result;
    }

    /// <summary>The same layer over the whole target, its last step written into <paramref name="result"/> instead of a new
    /// matrix (MathNet's <c>Multiply(other, result)</c> pattern). The sub-layers' own outputs are still new matrices.</summary>
    /// <param name="x">[m × d_model], embedded target tokens with positions; not modified.</param>
    /// <param name="memory">[n × d_model], the encoder's output.</param>
    /// <param name="targetMask">Mask fitting [m × m] for self-attention, or null.</param>
    /// <param name="memoryMask">Mask fitting [m × n] for cross-attention, or null.</param>
    /// <param name="result">[m × d_model], a dense matrix other than <paramref name="memory"/>; overwritten (it may be <paramref name="x"/>).</param>
    public void Forward(Matrix<float> x, Matrix<float> memory, AttentionMask? targetMask, AttentionMask? memoryMask, Matrix<float> result)
    {
        Check(x, memory, targetMask, memoryMask);
        Shapes.RequireShape(result, nameof(result), x.RowCount, Options.ModelDim, "one row per token of x");
        if (ReferenceEquals(result, memory))
        {
            throw new ArgumentException("result must not be the memory: cross-attention reads the memory until the last step.", nameof(result));
        }
        Shapes.RequireDense(result, nameof(result));
        Forward(x, memory, targetMask, memoryMask, cache: null, weights: null, result);
    }

    /// <summary>
    /// The sub-layers of Figure 1 (right), in order. With a <paramref name="cache"/>, x holds only the newest target rows:
    /// self-attention also sees the keys and values cached from earlier rows (and adds the new ones), and cross-attention
    /// reuses the memory's projected keys and values. <paramref name="weights"/>, when given, receives the averaged self-
    /// and cross-attention weights.
    /// </summary>
    internal void Forward(Matrix<float> x, Matrix<float> memory, AttentionMask? targetMask, AttentionMask? memoryMask, LayerCache? cache,
        List<(Matrix<float> Self, Matrix<float> Cross)>? weights, Matrix<float> result)
    {
        if (weights is null && FastPath.Applies(Dropout1, Dropout2, Dropout3, FeedForward.Dropout, SelfAttention.AttentionDropout, CrossAttention.AttentionDropout))
        {
            FastPath.Decoder(this, x, memory, targetMask, memoryMask, cache, result);   // the same steps over reused scratch memory (Inference/FastPath.cs)
            return;
        }
        MultiHeadAttentionOutput self, cross;
        if (Options.NormFirst)
        {
            self = AttendToSelf(Norm1.Forward(x));
            var x1 = Elementwise.Add(x, Dropout1.Forward(self.Output));                               // x₁ = x + Dropout(MaskedSelfAttention(LN(x)))
            cross = AttendToMemory(Norm2.Forward(x1));
            var x2 = Elementwise.Add(x1, Dropout2.Forward(cross.Output));                             // x₂ = x₁ + Dropout(CrossAttention(LN(x₁), memory))
            Elementwise.Add(x2, Dropout3.Forward(FeedForward.Forward(Norm3.Forward(x2))), result);    // x₂ + Dropout(FFN(LN(x₂)))
        }
        else
        {
            self = AttendToSelf(x);
            var x1 = Norm1.Forward(x, Dropout1.Forward(self.Output));                                 // x₁ = LN(x + Dropout(MaskedSelfAttention(x)))
            cross = AttendToMemory(x1);
            var x2 = Norm2.Forward(x1, Dropout2.Forward(cross.Output));                               // x₂ = LN(x₁ + Dropout(CrossAttention(x₁, memory)))
            Norm3.Forward(x2, Dropout3.Forward(FeedForward.Forward(x2)), result);                     // LN(x₂ + Dropout(FFN(x₂)))
        }
        weights?.Add((self.AverageWeights!, cross.AverageWeights!));

        // Masked self-attention over the target and attention over the encoder's memory; through the cache when decoding step by step.
        MultiHeadAttentionOutput AttendToSelf(Matrix<float> h) =>
            cache is null ? SelfAttention.Forward(h, h, h, targetMask, weights is not null) : cache.AttendToSelf(SelfAttention, h, weights is not null);

        MultiHeadAttentionOutput AttendToMemory(Matrix<float> h) =>
            cache is null ? CrossAttention.Forward(h, memory, memory, memoryMask, weights is not null) : cache.AttendToMemory(CrossAttention, h, memory, memoryMask, weights is not null);
    }

    /// <summary>The layer as a new matrix, through a cache when one is given (see the method above).</summary>
    internal Matrix<float> Forward(Matrix<float> x, Matrix<float> memory, AttentionMask? targetMask, AttentionMask? memoryMask, LayerCache? cache,
        List<(Matrix<float> Self, Matrix<float> Cross)>? weights)
    {
        var result = Storage.NewMatrix(x.RowCount, Options.ModelDim);
        Forward(x, memory, targetMask, memoryMask, cache, weights, result);
        return result;
    }

    /// <summary>The forward pass for training over the whole target (the readable path, dropout as set), keeping what
    /// <see cref="Backward"/> needs.</summary>
    /// <param name="x">[m × d_model], the embedded target.</param>
    /// <param name="memory">[n × d_model], the encoder's output.</param>
    /// <param name="targetMask">Self-attention mask fitting [m × m], usually causal.</param>
    /// <param name="memoryMask">Cross-attention mask fitting [m × n].</param>
    /// <returns>The record; its <see cref="DecoderLayerRecord.Output"/> is the layer's output.</returns>
    public DecoderLayerRecord ForwardRecorded(Matrix<float> x, Matrix<float> memory, AttentionMask? targetMask = null, AttentionMask? memoryMask = null)
    {
        Check(x, memory, targetMask, memoryMask);
        var selfInput = Options.NormFirst ? Norm1.Forward(x) : x;
        var self = SelfAttention.ForwardRecorded(selfInput, selfInput, selfInput, targetMask);       // masked self-attention
        var (selfAttended, mask1) = Dropout1.ForwardRecorded(self.Output);
        var sum1 = Elementwise.Add(x, selfAttended);
        var x1 = Options.NormFirst ? sum1 : Norm1.Forward(sum1);
        var crossInput = Options.NormFirst ? Norm2.Forward(x1) : x1;
        var cross = CrossAttention.ForwardRecorded(crossInput, memory, memory, memoryMask);          // attention over the memory
        var (crossAttended, mask2) = Dropout2.ForwardRecorded(cross.Output);
        var sum2 = Elementwise.Add(x1, crossAttended);
        var x2 = Options.NormFirst ? sum2 : Norm2.Forward(sum2);
        var feedForward = FeedForward.ForwardRecorded(Options.NormFirst ? Norm3.Forward(x2) : x2);
        var (fed, mask3) = Dropout3.ForwardRecorded(feedForward.Output);
        var sum3 = Elementwise.Add(x2, fed);
        var output = Options.NormFirst ? sum3 : Norm3.Forward(sum3);
        return new DecoderLayerRecord(x, self, mask1, sum1, x1, cross, mask2, sum2, x2, feedForward, mask3, sum3, output);
    }

    /// <summary>The backward pass: adds every parameter's gradient and returns ∂L/∂x and ∂L/∂memory.</summary>
    /// <param name="record">From <see cref="ForwardRecorded"/>.</param>
    /// <param name="outputGradient">∂L/∂output, [m × d_model].</param>
    /// <returns>∂L/∂x [m × d_model] and ∂L/∂memory [n × d_model] (the memory is read as both keys and values).</returns>
    public (Matrix<float> Input, Matrix<float> Memory) Backward(DecoderLayerRecord record, Matrix<float> outputGradient)
    {
        ArgumentNullException.ThrowIfNull(record);
        var pre = Options.NormFirst;
        var dSum3 = pre ? outputGradient : Norm3.Backward(record.Sum3, outputGradient);
        var dFed = FeedForward.Backward(record.FeedForward, Dropout.Backward(record.Mask3, dSum3));
        var dX2 = dSum3 + (pre ? Norm3.Backward(record.X2, dFed) : dFed);                               // the residual x₂ + ·
        var dSum2 = pre ? dX2 : Norm2.Backward(record.Sum2, dX2);
        var cross = CrossAttention.Backward(record.Cross, Dropout.Backward(record.Mask2, dSum2));
        var dX1 = dSum2 + (pre ? Norm2.Backward(record.X1, cross.Queries) : cross.Queries);              // the residual x₁ + ·
        var dSum1 = pre ? dX1 : Norm1.Backward(record.Sum1, dX1);
        var self = SelfAttention.Backward(record.Self, Dropout.Backward(record.Mask1, dSum1));
        var dSelfInput = self.Queries + self.Keys + self.Values;                                          // x read three times
        var dX = dSum1 + (pre ? Norm1.Backward(record.Input, dSelfInput) : dSelfInput);                  // the residual x + ·
        return (dX, cross.Keys + cross.Values);                                                          // memory read twice
    }

    internal void Check(Matrix<float> x, Matrix<float> memory, AttentionMask? targetMask, AttentionMask? memoryMask)
    {
        Shapes.RequireColumns(x, nameof(x), Options.ModelDim, "d_model");
        Shapes.RequireColumns(memory, nameof(memory), Options.ModelDim, "d_model");
        targetMask?.RequireFits(x.RowCount, x.RowCount, nameof(targetMask));
        memoryMask?.RequireFits(x.RowCount, memory.RowCount, nameof(memoryMask));
    }

    /// <summary>Switches dropout on (training) or off (evaluation).</summary>
    /// <param name="training">True for training mode.</param>
    public void SetTraining(bool training) =>
        Dropout1.Training = Dropout2.Training = Dropout3.Training = FeedForward.Dropout.Training =
            SelfAttention.AttentionDropout.Training = CrossAttention.AttentionDropout.Training = training;
}

/// <summary>What <see cref="DecoderLayer.Backward"/> needs from the forward pass (see <see cref="EncoderLayerRecord"/> for the pattern).</summary>
/// <param name="Input">x.</param>
/// <param name="Self">The masked self-attention's record.</param>
/// <param name="Mask1">Its dropout mask, or null.</param>
/// <param name="Sum1">x + Dropout(self-attention).</param>
/// <param name="X1">LN₁(Sum1) (post-norm) or Sum1 (pre-norm).</param>
/// <param name="Cross">The cross-attention's record.</param>
/// <param name="Mask2">Its dropout mask, or null.</param>
/// <param name="Sum2">x₁ + Dropout(cross-attention).</param>
/// <param name="X2">LN₂(Sum2) or Sum2.</param>
/// <param name="FeedForward">The feed-forward network's record.</param>
/// <param name="Mask3">Its dropout mask, or null.</param>
/// <param name="Sum3">x₂ + Dropout(FFN).</param>
/// <param name="Output">The layer's output.</param>
public sealed record DecoderLayerRecord(Matrix<float> Input, MultiHeadAttentionRecord Self, Matrix<float>? Mask1, Matrix<float> Sum1, Matrix<float> X1,
    MultiHeadAttentionRecord Cross, Matrix<float>? Mask2, Matrix<float> Sum2, Matrix<float> X2, FeedForwardRecord FeedForward, Matrix<float>? Mask3,
    Matrix<float> Sum3, Matrix<float> Output);
