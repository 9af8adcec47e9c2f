// y = (x − μ) / √(σ² + ε) · γ + β for each row of x, with μ and σ² the row's mean and biased variance (Ba et al., 2016).
//
// MathNet stores a matrix column by column, so feature j of every row sits in one contiguous column: the per-row
// statistics are vectors of n values that each column updates element by element (one vector lane per row), and every
// pass below is a vector loop. The moments use the corrected two-pass algorithm: a float mean μ₀ first, then the
// deviations from it, whose own sum δ = Σ (x − μ₀) repairs the rounding of μ₀ (Chan, Golub & LeVeque, 1983):
//   μ = μ₀ + δ/d,   σ² = Σ (x − μ₀)²/d − (δ/d)²
using System.Buffers;
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Kernels;

/// <summary>Layer normalisation of each row of a matrix, as <c>torch.nn.functional.layer_norm(x, (d,), γ, β, ε)</c>.</summary>
/// <remarks>Accumulates in float32. On rows whose mean is large against their spread (values near 1000 that differ in the
/// fourth digit) float32 itself loses digits: the result is then good to about 1e-4 of the spread, as PyTorch's is.</remarks>
public static class LayerNormalization
{
    /// <summary>The normalised rows as a new matrix.</summary>
    /// <param name="x">[n × d]; not modified.</param>
    /// <param name="gain">γ, [d].</param>
    /// <param name="bias">β, [d].</param>
    /// <param name="epsilon">ε &gt; 0, added to the variance inside the square root.</param>
    /// <returns>[n × d].</returns>
    /// <exception cref="ArgumentException">γ or β is not [d]; the message names both sizes.</exception>
    public static Matrix<float> Apply(Matrix<float> x, Vector<float> gain, Vector<float> bias, float epsilon)
    {
        ArgumentNullException.ThrowIfNull(x);
        var result = Storage.NewMatrix(x.RowCount, x.ColumnCount);
        Apply(x, gain, bias, epsilon, result);
        return result;
    }

    /// <summary>The normalised rows written into <paramref name="result"/>, which may be <paramref name="x"/> itself.</summary>
    /// <param name="x">[n × d].</param>
    /// <param name="gain">γ, [d].</param>
    /// <param name="bias">β, [d].</param>
    /// <param name="epsilon">ε &gt; 0.</param>
    /// <param name="result">[n × d], dense; overwritten.</param>
    /// <exception cref="ArgumentException">A shape does not fit; the message names both shapes.</exception>
    public static void Apply(Matrix<float> x, Vector<float> gain, Vector<float> bias, float epsilon, Matrix<float> result)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(gain);
        ArgumentNullException.ThrowIfNull(bias);
        var (n, d) = (x.RowCount, x.ColumnCount);
        if (gain.Count != d || bias.Count != d)
        {
            throw new ArgumentException($"γ [{gain.Count}] and β [{bias.Count}] must both hold d = {d} entries, one per column of x {Shapes.Of(x)}.", nameof(gain));
        }
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(epsilon);
        Shapes.RequireShape(result, nameof(result), n, d, $"the shape of x {Shapes.Of(x)}");
        Normalize(Storage.ColumnMajor(x), n, d, gain, bias, epsilon, Shapes.DenseArray(result, nameof(result)));
    }

    /// <summary>The same over column-major spans: <paramref name="result"/> [n × d] may be <paramref name="source"/> itself.</summary>
    internal static void Normalize(ReadOnlySpan<float> source, int n, int d, Vector<float> gain, Vector<float> bias, float epsilon, Span<float> result)
    {
        var width = SimdDispatch.Current;
        var rented = ArrayPool<float>.Shared.Rent(3 * n);   // per call, returned below: no buffer outlives the call
        try
        {
            var mean = rented.AsSpan(0, n);
            var deviation = rented.AsSpan(n, n);
            var inverseStd = rented.AsSpan(2 * n, n);
            mean.Clear();
            for (var j = 0; j < d; j++)
            {
                VectorOps.Add(mean, source.Slice(j * n, n), mean, width);                          // Σ_j x[i, j]
            }
            VectorOps.Scale(mean, 1.0f / d, width);                                               // μ₀
            deviation.Clear();
            inverseStd.Clear();
            for (var j = 0; j < d; j++)
            {
                VectorOps.AddDeviations(source.Slice(j * n, n), mean, deviation, inverseStd, width); // δ and Σ (x − μ₀)²
            }
            for (var i = 0; i < n; i++)
            {
                var correction = deviation[i] / d;
                mean[i] += correction;                                                            // μ
                var variance = MathF.Max(inverseStd[i] / d - correction * correction, 0.0f);     // biased variance
                inverseStd[i] = 1.0f / MathF.Sqrt(variance + epsilon);                           // ε inside the root
            }
            for (var j = 0; j < d; j++)
            {
                VectorOps.Normalize(source.Slice(j * n, n), mean, inverseStd, gain[j], bias[j], result.Slice(j * n, n), width); // (x − μ)/σ·γ + β
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(rented);
        }
    }
}
