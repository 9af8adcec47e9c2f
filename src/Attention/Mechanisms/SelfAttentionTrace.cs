using MathNet.Numerics.LinearAlgebra;

namespace Attention.Mechanisms;

/// <summary>Every intermediate of one <see cref="SelfAttention"/> pass, named as in the article.</summary>
/// <param name="Queries">queries = x·W_query, [n × d_k].</param>
/// <param name="Keys">keys = x·W_key, [m × d_k] (m = n for self-attention).</param>
/// <param name="Values">values = x·W_value, [m × d_v].</param>
/// <param name="Scores">ω = queries·keysᵀ, [n × m]: the unnormalized attention weights, before scaling and masking.</param>
/// <param name="Weights">α = softmax(ω/√d_k + mask), [n × m]: each row sums to 1.</param>
/// <param name="Context">z = α·values, [n × d_v]: one context vector per token.</param>
public sealed record SelfAttentionTrace(
    Matrix<float> Queries,
    Matrix<float> Keys,
    Matrix<float> Values,
    Matrix<float> Scores,
    Matrix<float> Weights,
    Matrix<float> Context);
