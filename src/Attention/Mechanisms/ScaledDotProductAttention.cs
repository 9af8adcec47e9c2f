// "Attention Is All You Need", §3.2.1, Eq. (1):  Attention(Q, K, V) = softmax(Q·Kᵀ / √d_k)·V
using Attention.Kernels;
using Attention.Layers;
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
        CheckShapes(queries, keys, values, mask);
        var (n, m, dk) = (queries.RowCount, keys.RowCount, queries.ColumnCount);
        var scores = MatrixMultiply.MultiplyTransposed(queries, keys);             // ω = Q·Kᵀ, returned for the lessons [n × m]
        // The softmax's input is (Q/√d_k)·Kᵀ: the same numbers as ω/√d_k, but PyTorch scales Q first, which rounds the
        // same way the fused kernel does and cannot overflow where ω would (|ω| past 3.4e38 while ω/√d_k is finite).
        var scaled = Elementwise.Multiply(queries, scale ?? 1.0f / MathF.Sqrt(dk));
        var logits = MatrixMultiply.MultiplyTransposed(scaled, keys);             // ω/√d_k (or ω·scale, when one is given)
        if (mask is not null)
        {
            logits = Elementwise.Add(logits, mask.ToAdditive(n, m));               // + mask: −∞ hides a key
        }
        var weights = Softmax.Rows(logits);                                        // α = softmax over each query's keys
        var output = MatrixMultiply.Multiply(weights, values);                     // z = α·V                       [n × d_v]
        return new AttentionOutput(output, scores, weights);
    }

    /// <summary>
    /// softmax(Q·Kᵀ/√d_k + mask)·V computed block by block with an online softmax (flash attention), never holding the
    /// [n × m] weights: O(n·d) memory instead of O(n²). The same output as <see cref="Compute"/> to float rounding, and the
    /// same policy for fully masked queries (a zero row). Use it for long sequences when the weights are not needed.
    /// </summary>
    /// <param name="queries">Q, [n × d_k].</param>
    /// <param name="keys">K, [m × d_k].</param>
    /// <param name="values">V, [m × d_v].</param>
    /// <param name="mask">Optional mask fitting [n × m]; with <see cref="AttentionMask.Causal"/> whole blocks of future keys are skipped.</param>
    /// <param name="scale">The factor on Q·Kᵀ; null means 1/√d_k.</param>
    /// <returns>The output, [n × d_v].</returns>
    /// <exception cref="ArgumentException">The shapes do not fit together; the message names both shapes.</exception>
    /// <remarks>The kernel multiplies each query by the scale before the product (as PyTorch's attention does, q/√d_k
    /// first), where <see cref="Compute"/> divides the scores after it, as the paper writes it: the two round differently,
    /// by about one float ulp of the scores.</remarks>
    public static Matrix<float> ComputeFused(Matrix<float> queries, Matrix<float> keys, Matrix<float> values, AttentionMask? mask = null, float? scale = null)
    {
        CheckShapes(queries, keys, values, mask);
        return FusedAttention.Forward(queries, keys, values, mask, scale ?? 1.0f / MathF.Sqrt(queries.ColumnCount));
    }

    /// <summary>The backward pass of <see cref="Compute"/>: ∂L/∂Q, ∂L/∂K and ∂L/∂V from the forward's inputs, its weights
    /// and ∂L/∂output.</summary>
    /// <param name="queries">Q, [n × d_k], as given to <see cref="Compute"/>.</param>
    /// <param name="keys">K, [m × d_k].</param>
    /// <param name="values">V, [m × d_v].</param>
    /// <param name="weights">α, [n × m], the weights <see cref="Compute"/> returned.</param>
    /// <param name="outputGradient">∂L/∂z, [n × d_v].</param>
    /// <param name="scale">The same scale as the forward pass; null means 1/√d_k.</param>
    /// <param name="dropoutMask">When the forward pass dropped weights (z = Dropout(α)·V, as multi-head attention does in
    /// training), the mask <see cref="Dropout.ForwardRecorded"/> returned, [n × m]; null otherwise.</param>
    /// <returns>The three gradients, shaped as Q, K and V.</returns>
    /// <remarks>Backwards through z = α·V, α = softmax(logits + mask), logits = (Q·s)·Kᵀ: the mask is a constant and a
    /// hidden key has α = 0, so it passes no gradient; a fully masked query passes none at all.</remarks>
    public static AttentionGradients Backward(Matrix<float> queries, Matrix<float> keys, Matrix<float> values, Matrix<float> weights,
        Matrix<float> outputGradient, float? scale = null, Matrix<float>? dropoutMask = null)
    {
        CheckShapes(queries, keys, values, null);
        Shapes.RequireShape(weights, nameof(weights), queries.RowCount, keys.RowCount, "[n × m], as Compute returned them");
        Shapes.RequireShape(outputGradient, nameof(outputGradient), queries.RowCount, values.ColumnCount, "[n × d_v], as the output");
        var s = scale ?? 1.0f / MathF.Sqrt(queries.ColumnCount);
        if (dropoutMask is not null)
        {
            Shapes.RequireShape(dropoutMask, nameof(dropoutMask), queries.RowCount, keys.RowCount, "[n × m], as the weights");
        }
        var used = dropoutMask is null ? weights : weights.PointwiseMultiply(dropoutMask);      // the α that multiplied V
        var dValues = MatrixMultiply.TransposeMultiply(used, outputGradient);                    // ∂L/∂V = αᵀ·∂L/∂z        [m × d_v]
        var dWeights = Dropout.Backward(dropoutMask, MatrixMultiply.MultiplyTransposed(outputGradient, values)); // ∂L/∂α = ∂L/∂z·Vᵀ (⊙ mask) [n × m]
        var dLogits = Softmax.RowsBackward(weights, dWeights);                                   // through the softmax     [n × m]
        var dQueries = Elementwise.Multiply(MatrixMultiply.Multiply(dLogits, keys), s);          // ∂L/∂Q = s·∂L/∂logits·K  [n × d_k]
        var dKeys = Elementwise.Multiply(MatrixMultiply.TransposeMultiply(dLogits, queries), s); // ∂L/∂K = s·(∂L/∂logits)ᵀ·Q [m × d_k]
        return new AttentionGradients(dQueries, dKeys, dValues);
    }

    private static void CheckShapes(Matrix<float> queries, Matrix<float> keys, Matrix<float> values, AttentionMask? mask)
    {
        ArgumentNullException.ThrowIfNull(queries);
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(values);
        Shapes.RequireInner(queries, nameof(queries), keys, nameof(keys), queries.ColumnCount, keys.ColumnCount,
            "Queries and keys need the same width d_k (Q·Kᵀ)");
        Shapes.RequireInner(keys, nameof(keys), values, nameof(values), keys.RowCount, values.RowCount,
            "Keys and values need one row per key token, the same count m");
        mask?.RequireFits(queries.RowCount, keys.RowCount, nameof(mask));
    }
}

/// <summary>The gradients <see cref="ScaledDotProductAttention.Backward"/> returns.</summary>
/// <param name="Queries">∂L/∂Q, [n × d_k].</param>
/// <param name="Keys">∂L/∂K, [m × d_k].</param>
/// <param name="Values">∂L/∂V, [m × d_v].</param>
public sealed record AttentionGradients(Matrix<float> Queries, Matrix<float> Keys, Matrix<float> Values);
