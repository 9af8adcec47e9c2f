// y = (x − μ) / √(σ² + ε) · γ + β for each row of x, with μ and σ² the row's mean and biased variance (Ba et al., 2016).
//
// MathNet stores a matrix column by column, so feature j of every row sits in one contiguous column: the per-row
// statistics are vectors of n values that each column updates element by element (one vector lane per row), and every
// pass below is a vector loop. The moments take two passes in double (RowMoments): the mean μ, then Σ (x − μ)², so
// every finite row has a finite mean and variance (a constant row of 1e30 has variance 0, where float squares would
// overflow); the normalisation itself, (x − μ)/√(σ² + ε)·γ + β, runs in float.
using System.Buffers;
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Kernels;

/// <summary>Layer normalisation of each row of a matrix, as <c>torch.nn.functional.layer_norm(x, (d,), γ, β, ε)</c>.</summary>
/// <remarks>Mean and variance are accumulated in double, so any finite row gives a finite result; the normalisation runs in
/// float32. PyTorch accumulates in float32 (Welford), so the two agree to float rounding, about 1e-6 relative.</remarks>
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
        var moments = ArrayPool<double>.Shared.Rent(2 * n);   // per call, returned below: no buffer outlives the call
        var statistics = ArrayPool<float>.Shared.Rent(2 * n);
        try
        {
            var sum = moments.AsSpan(0, n);
            var squares = moments.AsSpan(n, n);
            sum.Clear();
            squares.Clear();
            for (var j = 0; j < d; j++)
            {
                RowMoments.Add(source.Slice(j * n, n), sum, width);                                   // Σ_j x[i, j], in double
            }
            for (var i = 0; i < n; i++)
            {
                sum[i] /= d;                                                                         // μ
            }
            for (var j = 0; j < d; j++)
            {
                RowMoments.AddSquaredDeviations(source.Slice(j * n, n), sum, squares, width);         // Σ_j (x − μ)², in double
            }
            var mean = statistics.AsSpan(0, n);
            var inverseStd = statistics.AsSpan(n, n);
            for (var i = 0; i < n; i++)
            {
                mean[i] = (float)sum[i];
                inverseStd[i] = (float)(1.0 / Math.Sqrt(squares[i] / d + epsilon));                 // biased variance, ε inside the root
            }
            for (var j = 0; j < d; j++)
            {
                VectorOps.Normalize(source.Slice(j * n, n), mean, inverseStd, gain[j], bias[j], result.Slice(j * n, n), width); // (x − μ)/σ·γ + β
            }
        }
        finally
        {
            ArrayPool<double>.Shared.Return(moments);
            ArrayPool<float>.Shared.Return(statistics);
        }
    }

    /// <summary>The backward pass of <see cref="Apply(Matrix{float}, Vector{float}, Vector{float}, float)"/>: from x and ∂L/∂y,
    /// the gradients of the input, the gain and the bias.</summary>
    /// <param name="x">[n × d], the forward input.</param>
    /// <param name="gain">γ, [d].</param>
    /// <param name="epsilon">ε, as in the forward pass.</param>
    /// <param name="outputGradient">∂L/∂y, [n × d].</param>
    /// <returns>∂L/∂x [n × d], ∂L/∂γ [d] and ∂L/∂β [d].</returns>
    /// <exception cref="ArgumentException">A shape does not fit; the message names both shapes.</exception>
    /// <remarks>With x̂ = (x − μ)·r, r = 1/√(σ² + ε) per row and g = ∂L/∂y ⊙ γ:
    /// ∂L/∂β_j = Σ_i ∂L/∂y_ij;  ∂L/∂γ_j = Σ_i ∂L/∂y_ij·x̂_ij;  ∂L/∂x_i = r_i·(g_i − mean_j g_ij − x̂_i·mean_j(g_ij·x̂_ij)).
    /// The two means are what μ and σ² pass back: every entry of a row moved both.</remarks>
    public static LayerNormGradients Backward(Matrix<float> x, Vector<float> gain, float epsilon, Matrix<float> outputGradient)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(gain);
        var (n, d) = (x.RowCount, x.ColumnCount);
        if (gain.Count != d)
        {
            throw new ArgumentException($"γ [{gain.Count}] must hold d = {d} entries, one per column of x {Shapes.Of(x)}.", nameof(gain));
        }
        Shapes.RequireShape(outputGradient, nameof(outputGradient), n, d, $"the shape of x {Shapes.Of(x)}");
        var (xs, dy) = (Storage.ColumnMajor(x), Storage.ColumnMajor(outputGradient));
        var (mean, inverseStd) = (new double[n], new double[n]);
        for (var j = 0; j < d; j++)
        {
            for (var i = 0; i < n; i++)
            {
                mean[i] += xs[i + j * n];
            }
        }
        for (var i = 0; i < n; i++)
        {
            mean[i] /= d;
        }
        for (var j = 0; j < d; j++)
        {
            for (var i = 0; i < n; i++)
            {
                var c = xs[i + j * n] - mean[i];
                inverseStd[i] += c * c;
            }
        }
        for (var i = 0; i < n; i++)
        {
            inverseStd[i] = 1.0 / Math.Sqrt(inverseStd[i] / d + epsilon);               // r
        }
        var (gMean, gxMean) = (new double[n], new double[n]);
        var (dGain, dBias) = (Vector<float>.Build.Dense(d), Vector<float>.Build.Dense(d));
        var gains = gain.ToArray();                                                          // γ as an array: no indexer call per entry
        for (var j = 0; j < d; j++)
        {
            double sumGain = 0, sumBias = 0;
            for (var i = 0; i < n; i++)
            {
                var xHat = (xs[i + j * n] - mean[i]) * inverseStd[i];
                var g = (double)dy[i + j * n] * gains[j];
                (sumBias, sumGain) = (sumBias + dy[i + j * n], sumGain + dy[i + j * n] * xHat);
                gMean[i] += g / d;
                gxMean[i] += g * xHat / d;
            }
            (dGain[j], dBias[j]) = ((float)sumGain, (float)sumBias);
        }
        var dx = Storage.NewMatrix(n, d, "The input gradient", nameof(x));
        var dxs = Storage.ColumnMajor(dx);
        for (var j = 0; j < d; j++)
        {
            for (var i = 0; i < n; i++)
            {
                var xHat = (xs[i + j * n] - mean[i]) * inverseStd[i];
                dxs[i + j * n] = (float)(inverseStd[i] * ((double)dy[i + j * n] * gains[j] - gMean[i] - xHat * gxMean[i]));
            }
        }
        return new LayerNormGradients(dx, dGain, dBias);
    }
}

/// <summary>The gradients <see cref="LayerNormalization.Backward"/> returns.</summary>
/// <param name="Input">∂L/∂x, [n × d].</param>
/// <param name="Gain">∂L/∂γ, [d] (PyTorch's <c>weight.grad</c>).</param>
/// <param name="Bias">∂L/∂β, [d] (PyTorch's <c>bias.grad</c>).</param>
public sealed record LayerNormGradients(Matrix<float> Input, Vector<float> Gain, Vector<float> Bias);
