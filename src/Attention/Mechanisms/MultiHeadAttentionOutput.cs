using MathNet.Numerics.LinearAlgebra;

namespace Attention.Mechanisms;

/// <summary>What <see cref="MultiHeadAttention"/> returns.</summary>
/// <param name="Output">MultiHead(Q, K, V) = Concat(head₁, …, head_h)·W_Oᵀ + b_O, [n × d_model].</param>
/// <param name="HeadWeights">The attention weights of each head, h matrices [n × m]; null unless asked for.</param>
/// <param name="AverageWeights">The weights summed over heads and divided by h, as PyTorch's <c>average_attn_weights=True</c>, [n × m]; null unless asked for.</param>
public sealed record MultiHeadAttentionOutput(Matrix<float> Output, IReadOnlyList<Matrix<float>>? HeadWeights, Matrix<float>? AverageWeights);
