using MathNet.Numerics.LinearAlgebra;

namespace Attention.Mechanisms;

/// <summary>What scaled dot-product attention computes, every step kept so it can be printed or drawn.</summary>
/// <param name="Output">softmax(Q·Kᵀ/√d_k + mask)·V, [n × d_v]: one context vector per query.</param>
/// <param name="Scores">The unnormalized scores ω = Q·Kᵀ, [n × m], before scaling and masking (the article's "omega").</param>
/// <param name="Weights">The attention weights softmax(ω/√d_k + mask), [n × m]; each row sums to 1, or is all zero when every key is masked.</param>
public sealed record AttentionOutput(Matrix<float> Output, Matrix<float> Scores, Matrix<float> Weights);
