// "Attention Is All You Need", §3.1: "the output of each sub-layer is LayerNorm(x + Sublayer(x))" (Ba et al., 2016).
//   y = (x − mean(x)) / √(var(x) + ε) · γ + β,   per row, with the biased variance (divide by d, not d − 1).
using Attention.Kernels;
using Attention.Serialization;
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Layers;

/// <summary>PyTorch's <c>nn.LayerNorm(d)</c>: each row normalised to mean 0 and variance 1, then scaled by γ and shifted by β.</summary>
/// <remarks>Mean and variance are accumulated in float32 with the corrected two-pass algorithm, which repairs the
/// rounding of the first mean, then the row is normalised in float32. On rows whose mean is large against their spread
/// (values near 1000 that differ in the fourth digit) float32 itself loses digits: the result is then good to about
/// 1e-4 of the spread, as PyTorch's is.</remarks>
public sealed class LayerNorm
{
    /// <summary>Creates a layer with γ = 1 and β = 0, as PyTorch initialises it.</summary>
    /// <param name="dimension">d, the width of each row.</param>
    /// <param name="epsilon">ε, added to the variance inside the square root.</param>
    public LayerNorm(int dimension, float epsilon = 1e-5f)
        : this(Vector<float>.Build.Dense(dimension, 1.0f), Vector<float>.Build.Dense(dimension), epsilon)
    {
    }

    /// <summary>Creates a layer from given parameters (copied).</summary>
    /// <param name="gain">γ, PyTorch's <c>weight</c>, [d].</param>
    /// <param name="bias">β, PyTorch's <c>bias</c>, [d].</param>
    /// <param name="epsilon">ε.</param>
    public LayerNorm(Vector<float> gain, Vector<float> bias, float epsilon = 1e-5f)
    {
        ArgumentNullException.ThrowIfNull(gain);
        ArgumentNullException.ThrowIfNull(bias);
        ArgumentOutOfRangeException.ThrowIfZero(gain.Count, nameof(gain));
        if (bias.Count != gain.Count)
        {
            throw new ArgumentException($"bias must have {gain.Count} entries like the gain, but has {bias.Count}.", nameof(bias));
        }
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(epsilon);
        Gain = gain.Clone();
        Bias = bias.Clone();
        Epsilon = epsilon;
    }

    /// <summary>γ, [d] (PyTorch's <c>weight</c>).</summary>
    public Vector<float> Gain { get; }

    /// <summary>β, [d] (PyTorch's <c>bias</c>).</summary>
    public Vector<float> Bias { get; }

    /// <summary>ε, added to the variance.</summary>
    public float Epsilon { get; }

    /// <summary>d, the width of a row.</summary>
    public int Dimension => Gain.Count;

    /// <summary>Reads <c>{prefix}weight</c> and <c>{prefix}bias</c>, each [d].</summary>
    /// <param name="state">Named parameters.</param>
    /// <param name="prefix">E.g. <c>"encoder.layers.0.norm1."</c>.</param>
    /// <param name="dimension">d.</param>
    /// <param name="epsilon">ε.</param>
    /// <returns>The layer.</returns>
    public static LayerNorm FromStateDict(IReadOnlyDictionary<string, Matrix<float>> state, string prefix, int dimension, float epsilon = 1e-5f) =>
        new(StateDict.Vector(state, prefix + "weight", dimension), StateDict.Vector(state, prefix + "bias", dimension), epsilon);

    /// <summary>Writes <c>{prefix}weight</c> and <c>{prefix}bias</c> as [1 × d].</summary>
    /// <param name="state">The dictionary to add to.</param>
    /// <param name="prefix">The name prefix.</param>
    public void AddTo(IDictionary<string, Matrix<float>> state, string prefix)
    {
        ArgumentNullException.ThrowIfNull(state);
        state[prefix + "weight"] = StateDict.Row(Gain);
        state[prefix + "bias"] = StateDict.Row(Bias);
    }

    /// <summary>Normalises every row.</summary>
    /// <param name="x">[n × d]; not modified.</param>
    /// <returns>[n × d].</returns>
    public Matrix<float> Forward(Matrix<float> x)
    {
        Shapes.RequireColumns(x, nameof(x), Dimension, "the LayerNorm width d");
        var result = Storage.NewArray(x.RowCount * Dimension);
        Forward(Storage.ColumnMajor(x), x.RowCount, result);
        return Storage.Wrap(x.RowCount, Dimension, result);
    }

    /// <summary>LayerNorm(x + residual), the "Add &amp; Norm" of Figure 1, without allocating the sum separately.</summary>
    /// <param name="x">[n × d]; not modified.</param>
    /// <param name="residual">[n × d], the sub-layer's input carried around it; not modified.</param>
    /// <returns>[n × d].</returns>
    public Matrix<float> Forward(Matrix<float> x, Matrix<float> residual)
    {
        Shapes.RequireColumns(x, nameof(x), Dimension, "the LayerNorm width d");
        Shapes.RequireShape(residual, nameof(residual), x.RowCount, Dimension, "the same shape as x");
        var result = Storage.NewArray(x.RowCount * Dimension);
        Forward(Storage.ColumnMajor(x), Storage.ColumnMajor(residual), x.RowCount, result);
        return Storage.Wrap(x.RowCount, Dimension, result);
    }

    /// <summary>LayerNorm of column-major [n × d] <paramref name="x"/> into <paramref name="result"/> (which may be the same memory).</summary>
    internal void Forward(ReadOnlySpan<float> x, int n, Span<float> result) => Normalize(x, result, n);

    /// <summary>LayerNorm(x + residual) of column-major [n × d] data into <paramref name="result"/>.</summary>
    internal void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> residual, int n, Span<float> result)
    {
        VectorOps.Add(x[..(n * Dimension)], residual, result, SimdDispatch.Current);
        Normalize(result, result, n);
    }

    private void Normalize(ReadOnlySpan<float> source, Span<float> result, int n)
    {
        // Column-major storage holds feature j of every row in one contiguous column, so the per-row statistics are
        // vectors of n values that each column updates element by element (one lane per row): every pass is a vector loop.
        // The moments use the corrected two-pass algorithm: a float mean μ₀ first, then the deviations from it,
        // whose own sum δ = Σ (x − μ₀) repairs the rounding of μ₀ (Chan, Golub & LeVeque, 1983):
        //   μ = μ₀ + δ/d,   σ² = Σ (x − μ₀)²/d − (δ/d)²
        var (d, width) = (Dimension, SimdDispatch.Current);
        var statistics = Scratch.Rent(ref _statistics, 3 * n);
        var mean = statistics.AsSpan(0, n);
        var deviation = statistics.AsSpan(n, n);
        var inverseStd = statistics.AsSpan(2 * n, n);
        mean.Clear();
        for (var j = 0; j < d; j++)
        {
            VectorOps.Add(mean, source.Slice(j * n, n), mean, width);                    // Σ_j x[i, j]
        }
        VectorOps.Scale(mean, 1.0f / d, width);                                         // μ₀
        deviation.Clear();
        inverseStd.Clear();
        for (var j = 0; j < d; j++)
        {
            VectorOps.AddDeviations(source.Slice(j * n, n), mean, deviation, inverseStd, width); // δ and Σ (x − μ₀)²
        }
        for (var i = 0; i < n; i++)
        {
            var correction = deviation[i] / d;
            mean[i] += correction;                                                           // μ
            var variance = MathF.Max(inverseStd[i] / d - correction * correction, 0.0f);    // biased variance
            inverseStd[i] = 1.0f / MathF.Sqrt(variance + Epsilon);                          // ε inside the root
        }
        for (var j = 0; j < d; j++)
        {
            VectorOps.Normalize(source.Slice(j * n, n), mean, inverseStd, Gain[j], Bias[j], result.Slice(j * n, n), width); // (x − μ)/σ·γ + β
        }
    }

    [ThreadStatic]
    private static float[]? _statistics;
}
