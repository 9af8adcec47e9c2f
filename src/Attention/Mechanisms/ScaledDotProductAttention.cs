// "Attention Is All You Need", §3.2.1, Eq. (1):  Attention(Q, K, V) = softmax(Q·Kᵀ / √d_k)·V
using Attention.Kernels;
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Mechanisms;

/// <summary>Scaled dot-product attention on packed matrices, with an optional mask.</summary>
/// <remarks>
/// <para>Shapes: Q [n × d_k], K [m × d_k], V [m × d_v], output [n × d_v]. n ≠ m (cross-attention) and d_k ≠ d_v are fine.</para>
/// <para>Policy for a query whose every key is masked: its weights and its output row are zero. (PyTorch 1.13 returns
/// NaN there and lets it spread.) A NaN or +∞ among a row's scores makes that row's weights and output NaN.</para>
/// </remarks>
public static class ScaledDotProductAttention
{
    /// <summary>softmax(Q·Kᵀ/√d_k + mask)·V, returned with the scores and the weights.</summary>
    /// <param name="queries">Q, [n × d_k], one row per query token.</param>
    /// <param name="keys">K, [m × d_k], one row per key token.</param>
    /// <param name="values">V, [m × d_v], one row per key token.</param>
    /// <param name="mask">Optional mask fitting [n × m]; see <see cref="AttentionMask"/>.</param>
    /// <param name="scale">The factor on Q·Kᵀ; null means the paper's 1/√d_k. Pass 1 for the unscaled attention of
    /// the "simplified self-attention" lessons (PyTorch 2's <c>scale</c> argument does the same).</param>
    /// <returns>The output [n × d_v], the scores ω = Q·Kᵀ [n × m] and the weights [n × m].</returns>
    /// <exception cref="ArgumentException">The shapes do not fit together; the message names both shapes.</exception>
    public static AttentionOutput Compute(Matrix<float> queries, Matrix<float> keys, Matrix<float> values, AttentionMask? mask = null, float? scale = null)
    {
        Shapes.RequireInner(queries, nameof(queries), keys, nameof(keys), queries.ColumnCount, keys.ColumnCount,
            "Queries and keys need the same width d_k (Q·Kᵀ)");
        Shapes.RequireInner(keys, nameof(keys), values, nameof(values), keys.RowCount, values.RowCount,
            "Keys and values need one row per key token, the same count m");
        mask?.RequireFits(queries.RowCount, keys.RowCount, nameof(mask));

        var scores = MatrixMultiply.MultiplyTransposed(queries, keys);           // ω = Q·Kᵀ        [n × m]
        var logits = ScaleAndMask(scores, scale, queries.ColumnCount, mask); // ω/√d_k + mask
        RowSoftmax.Apply(logits, scores.RowCount, scores.ColumnCount);             // softmax per row, in place
        var weights = Matrix<float>.Build.Dense(scores.RowCount, scores.ColumnCount, logits);
        var output = MatrixMultiply.Multiply(weights, values);                   // weights·V       [n × d_v]
        return new AttentionOutput(output, scores, weights);
    }

    private static float[] ScaleAndMask(Matrix<float> scores, float? scale, int keyDim, AttentionMask? mask)
    {
        // Divide by √d_k, as the paper and PyTorch code (ω / d_k**0.5) write it, unless a scale is given.
        var sqrtDk = MathF.Sqrt(keyDim);
        var n = scores.RowCount;
        var logits = Storage.ColumnMajor(scores).ToArray();
        for (var j = 0; j < scores.ColumnCount; j++)
        {
            for (var i = 0; i < n; i++)
            {
                var scaled = scale is { } factor ? logits[i + j * n] * factor : logits[i + j * n] / sqrtDk;
                logits[i + j * n] = scaled + (mask?.BiasAt(i, j) ?? 0.0f);
            }
        }
        return logits;
    }
}
