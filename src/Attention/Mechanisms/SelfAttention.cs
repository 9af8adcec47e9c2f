// One attention head as Raschka's article writes it:
//   queries = x·W_query,  keys = x·W_key,  values = x·W_value
//   ω = queries·keysᵀ,   α = softmax(ω / √d_k),   context = α·values
using Attention.Kernels;
using Attention.Randomness;
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Mechanisms;

/// <summary>
/// A single self-attention head with weight matrices used as x·W: <see cref="WQ"/> [d × d_k], <see cref="WK"/> [d × d_k],
/// <see cref="WV"/> [d × d_v]. <see cref="Trace(Matrix{float}, AttentionMask?)"/> returns every intermediate the article prints.
/// </summary>
/// <remarks>
/// The article's 2023 version stores the weights as [d_out × d] and computes W·x for a column vector x; pass the
/// transposes of such matrices here, since (W·x)ᵀ = xᵀ·Wᵀ.
/// </remarks>
public sealed class SelfAttention
{
    /// <summary>Creates a head with weights drawn as the article does: <c>W_query</c>, <c>W_key</c>, <c>W_value</c> from
    /// <c>torch.rand(d, d_k)</c>, <c>torch.rand(d, d_k)</c>, <c>torch.rand(d, d_v)</c>, in that order.</summary>
    /// <param name="inputDim">d, the width of an input token vector.</param>
    /// <param name="keyDim">d_k = d_q, the width of queries and keys.</param>
    /// <param name="valueDim">d_v, the width of values and of the context vectors.</param>
    /// <param name="generator">The random source, advanced by d·(2·d_k + d_v) draws.</param>
    public SelfAttention(int inputDim, int keyDim, int valueDim, TorchGenerator generator)
    {
        ArgumentNullException.ThrowIfNull(generator);
        WQ = generator.Rand(inputDim, keyDim);
        WK = generator.Rand(inputDim, keyDim);
        WV = generator.Rand(inputDim, valueDim);
    }

    /// <summary>Creates a head as <c>torch.manual_seed(seed)</c> followed by the article's three <c>torch.rand</c> calls.</summary>
    /// <param name="inputDim">d, the width of an input token vector.</param>
    /// <param name="keyDim">d_k = d_q, the width of queries and keys.</param>
    /// <param name="valueDim">d_v, the width of values and of the context vectors.</param>
    /// <param name="seed">The seed given to a fresh <see cref="TorchGenerator"/>.</param>
    public SelfAttention(int inputDim, int keyDim, int valueDim, long seed)
        : this(inputDim, keyDim, valueDim, new TorchGenerator(seed))
    {
    }

    /// <summary>Creates a head from given weights (copied).</summary>
    /// <param name="wq">W_query, [d × d_k].</param>
    /// <param name="wk">W_key, [d × d_k].</param>
    /// <param name="wv">W_value, [d × d_v].</param>
    public SelfAttention(Matrix<float> wq, Matrix<float> wk, Matrix<float> wv)
    {
        ArgumentNullException.ThrowIfNull(wq);
        ArgumentNullException.ThrowIfNull(wk);
        ArgumentNullException.ThrowIfNull(wv);
        Shapes.RequireShape(wk, nameof(wk), wq.RowCount, wq.ColumnCount, $"W_key must match W_query, which is {Shapes.Of(wq)}");
        Shapes.RequireInner(wq, nameof(wq), wv, nameof(wv), wq.RowCount, wv.RowCount, "W_value needs one row per input dimension d, as W_query");
        WQ = wq.Clone();
        WK = wk.Clone();
        WV = wv.Clone();
    }

    /// <summary>W_query, [d × d_k].</summary>
    public Matrix<float> WQ { get; }

    /// <summary>W_key, [d × d_k].</summary>
    public Matrix<float> WK { get; }

    /// <summary>W_value, [d × d_v].</summary>
    public Matrix<float> WV { get; }

    /// <summary>d, the width of the input token vectors.</summary>
    public int InputDim => WQ.RowCount;

    /// <summary>d_k = d_q, the width of queries and keys.</summary>
    public int KeyDim => WQ.ColumnCount;

    /// <summary>d_v, the width of values and context vectors.</summary>
    public int ValueDim => WV.ColumnCount;

    /// <summary>The context vectors of self-attention over <paramref name="x"/>.</summary>
    /// <param name="x">[n × d], one row per token.</param>
    /// <param name="mask">Optional mask fitting [n × n], e.g. <see cref="AttentionMask.Causal"/>.</param>
    /// <returns>[n × d_v].</returns>
    public Matrix<float> Forward(Matrix<float> x, AttentionMask? mask = null) => Trace(x, mask).Context;

    /// <summary>Self-attention over <paramref name="x"/>, with every intermediate.</summary>
    /// <param name="x">[n × d], one row per token.</param>
    /// <param name="mask">Optional mask fitting [n × n].</param>
    /// <returns>Queries [n × d_k], keys [n × d_k], values [n × d_v], scores ω [n × n], weights [n × n], context [n × d_v].</returns>
    public SelfAttentionTrace Trace(Matrix<float> x, AttentionMask? mask = null) => Trace(x, x, mask);

    /// <summary>Cross-attention: queries from <paramref name="x"/>, keys and values from <paramref name="context"/> (the article's <c>CrossAttention</c>).</summary>
    /// <param name="x">[n × d], the sequence that asks (e.g. the decoder's).</param>
    /// <param name="context">[m × d], the sequence attended to (e.g. the encoder's); m may differ from n.</param>
    /// <param name="mask">Optional mask fitting [n × m].</param>
    /// <returns>Queries [n × d_k], keys [m × d_k], values [m × d_v], scores [n × m], weights [n × m], context [n × d_v].</returns>
    public SelfAttentionTrace Trace(Matrix<float> x, Matrix<float> context, AttentionMask? mask = null)
    {
        Shapes.RequireColumns(x, nameof(x), InputDim, $"the input width d of W_query {Shapes.Of(WQ)}");
        Shapes.RequireColumns(context, nameof(context), InputDim, $"the input width d of W_key {Shapes.Of(WK)}");
        var queries = MatrixMultiply.Multiply(x, WQ);      // [n × d_k]
        var keys = MatrixMultiply.Multiply(context, WK);   // [m × d_k]
        var values = MatrixMultiply.Multiply(context, WV); // [m × d_v]
        var attention = ScaledDotProductAttention.Compute(queries, keys, values, mask);
        return new SelfAttentionTrace(queries, keys, values, attention.Scores, attention.Weights, attention.Output);
    }
}
