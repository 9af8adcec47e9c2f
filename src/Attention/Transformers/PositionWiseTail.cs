// "Attention Is All You Need", §3.1–§3.3 and Figure 1: what follows the heads of a layer's last attention (self-attention
// in the encoder, cross-attention in the decoder): the attention's output projection, add & norm, the position-wise
// feed-forward network, add & norm again.
//   attended = Concat(head₁, …, head_h)·W_Oᵀ + b_O
//   post-norm:  x₁ = Norm_a(x + Dropout(attended));   y = Norm_f(x₁ + Dropout(FFN(x₁)))
//   pre-norm:   x₁ = x + Dropout(attended);           y = x₁ + Dropout(FFN(Norm_f(x₁)))   (Norm_a ran before attention)
// Every step treats each token on its own, so on several cores each core takes a block of tokens through all of them.
using Attention.Kernels;
using Attention.Layers;

namespace Attention.Transformers;

/// <summary>The position-wise end of an encoder or decoder layer over column-major [n × d_model] spans.</summary>
internal sealed class PositionWiseTail(bool normFirst, Linear outputProjection, Dropout attentionDropout, LayerNorm attentionNorm,
    FeedForward feedForward, Dropout feedForwardDropout, LayerNorm feedForwardNorm)
{
    private int ModelDim => feedForwardNorm.Dimension;

    /// <summary>
    /// <paramref name="output"/> = the tail applied to the layer's carried input <paramref name="x"/> and the attention's
    /// concatenated heads <paramref name="heads"/>, all [n × d_model]. Split into token blocks on several cores, except in
    /// training: dropout draws its masks from one generator in order, so that stays on one thread.
    /// </summary>
    public void Forward(float[] x, float[] heads, int n, float[] output)
    {
        var training = !(attentionDropout.IsIdentity && feedForwardDropout.IsIdentity && feedForward.Dropout.IsIdentity);
        var work = training ? 0 : (long)n * ModelDim * (ModelDim + 2 * feedForward.Linear1.OutFeatures); // multiply-adds of W_O and the FFN
        Parallelism.ForEachBlock(n, work, (first, rows) =>
        {
            var block = new TokenBlock(n, first, rows, ModelDim);
            var attended = Scratch.Rent(ref _attended, rows * ModelDim).AsSpan(0, rows * ModelDim);
            outputProjection.Forward(heads.AsSpan(first), n, rows, attended, rows); // read in place: no copy of the block's heads
            var y = block.Destination(output, ref _blockOutput);
            Block(block.Gather(x, ref _blockInput), attended, rows, y);
            block.Scatter(y, output);
        });
    }

    private void Block(ReadOnlySpan<float> x, Span<float> attended, int n, Span<float> y)
    {
        var size = n * ModelDim;
        var x1 = Scratch.Rent(ref _x1, size).AsSpan(0, size);
        var sublayer = Scratch.Rent(ref _sublayer, size).AsSpan(0, size);
        if (normFirst)
        {
            attentionDropout.ApplyAndAdd(attended, x, x1);                     // x₁ = x + Dropout(attended)
            feedForwardNorm.Forward(x1, n, sublayer);                          // LayerNorm(x₁)
            feedForward.Forward(sublayer, n, y);                               // FFN(·)
            feedForwardDropout.ApplyAndAdd(y, x1, y);                          // x₁ + Dropout(·)
        }
        else
        {
            attentionDropout.ApplyInPlace(attended);
            attentionNorm.Forward(x, attended, n, x1);                         // x₁ = Norm(x + Dropout(attended))
            feedForward.Forward(x1, n, sublayer);                              // FFN(x₁)
            feedForwardDropout.ApplyInPlace(sublayer);
            feedForwardNorm.Forward(x1, sublayer, n, y);                       // Norm(x₁ + Dropout(·))
        }
    }

    [ThreadStatic]
    private static float[]? _x1;

    [ThreadStatic]
    private static float[]? _sublayer;

    [ThreadStatic]
    private static float[]? _blockInput;

    [ThreadStatic]
    private static float[]? _attended;

    [ThreadStatic]
    private static float[]? _blockOutput;
}
