using Attention.Kernels;
using Attention.Layers;
using Attention.Mechanisms;
using Attention.Tests.Support;
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Tests.BadInput;

/// <summary>Numerics with one answer: finite inputs give finite outputs where the mathematics does, and the plain and
/// fused attention paths agree at the edges of float32.</summary>
public class NumericsTests
{
    [Fact]
    public void Layer_norm_of_a_constant_row_of_1e30_is_its_bias()
    {
        // Mean 1e30, variance exactly 0: (x − μ)/√(0 + ε)·γ + β = β. In float the squared deviations of the rounded
        // mean overflowed to ∞, and the variance became ∞ − ∞ = NaN.
        var norm = new LayerNorm(Vector<float>.Build.Dense(64, 2f), Vector<float>.Build.Dense(64, i => i / 10f));
        var y = norm.Forward(Matrix<float>.Build.Dense(3, 64, 1e30f));
        for (var i = 0; i < 3; i++)
        {
            y.Row(i).Should().Equal(norm.Bias);
        }
    }

    [Fact]
    public void Layer_norm_of_rows_spanning_the_float_range_is_finite_and_agrees_with_double()
    {
        // Alternating ±3e38: mean 0, variance 9e76 (past float, fine in double), so each entry normalises to ±1.
        var x = Matrix<float>.Build.Dense(2, 8, (i, j) => (j % 2 == 0 ? 3e38f : -3e38f) * (i == 0 ? 1 : 0.5f));
        var y = new LayerNorm(8).Forward(x);
        Expect.Close(y, Matrix<float>.Build.Dense(2, 8, (_, j) => j % 2 == 0 ? 1f : -1f), what: "±1 after normalising");
    }

    [Fact]
    public void Plain_and_fused_attention_agree_when_Q_times_K_transposed_would_overflow()
    {
        // d_k = 64: ω = 64 · 1e18 · 1e19·(1 + j/100) ≈ 6.4e38 passes float's 3.4e38, but ω/√d_k ≈ 8e37 does not.
        // Both paths scale Q before the product, so both see finite logits; the largest key wins outright.
        var q = Matrix<float>.Build.Dense(3, 64, 1e18f);
        var k = Matrix<float>.Build.Dense(5, 64, (j, _) => 1e19f * (1 + j / 100f));
        var v = Matrix<float>.Build.Dense(5, 2, (j, c) => j * 10 + c);
        var plain = ScaledDotProductAttention.Compute(q, k, v);
        var fused = ScaledDotProductAttention.ComputeFused(q, k, v);
        plain.Output.Should().Be(Matrix<float>.Build.Dense(3, 2, (_, c) => 40 + c), "key 4 scores highest by ~8e35");
        fused.Should().Be(plain.Output);
        plain.Weights.Enumerate().Should().OnlyContain(w => w == 0f || w == 1f);
    }
}
