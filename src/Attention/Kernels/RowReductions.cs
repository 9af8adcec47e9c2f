// Per-row reductions of a column-major matrix, the passes a cross-entropy loss needs over its [tokens × vocabulary]
// logits: the maximum and its column (argmax), the sum, and log Σ exp. A row is strided in MathNet's column-major
// storage, so these run down the columns with a vector across sixteen rows at a time, and every read is in memory order.
// Sums are accumulated in double.
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Kernels;

/// <summary>Row maxima, argmaxes, sums and log-sum-exps of a matrix, vectorised across rows.</summary>
/// <remarks>Results are the same at every SIMD width but the last bits of the log-sum-exp, whose exp is the vector exp
/// (within one ulp) at 512 bits and <see cref="Math.Exp"/> otherwise.</remarks>
public static class RowReductions
{
    /// <summary>For each row i: the first column of its largest entry (NaN entries are never the largest).</summary>
    /// <param name="x">[n × m], m ≥ 1.</param>
    /// <returns>n column indices.</returns>
    public static int[] ArgMax(Matrix<float> x)
    {
        ArgumentNullException.ThrowIfNull(x);
        var (n, m, values) = (x.RowCount, x.ColumnCount, Storage.ColumnMajor(x));
        var (best, index) = (new float[n], new int[n]);
        Array.Fill(best, float.NegativeInfinity);
        for (var j = 0; j < m; j++)
        {
            var column = values.AsSpan(j * n, n);
            for (var i = 0; i < n; i++)
            {
                if (column[i] > best[i])                      // strictly greater: the first maximum wins, as PyTorch's argmax
                {
                    (best[i], index[i]) = (column[i], j);
                }
            }
        }
        return index;
    }

    /// <summary>For each row i: Σ_j x_ij, accumulated in double.</summary>
    /// <param name="x">[n × m].</param>
    /// <returns>n sums.</returns>
    public static double[] Sums(Matrix<float> x)
    {
        ArgumentNullException.ThrowIfNull(x);
        var (n, m, values) = (x.RowCount, x.ColumnCount, Storage.ColumnMajor(x));
        var sums = new double[n];
        for (var j = 0; j < m; j++)
        {
            var column = values.AsSpan(j * n, n);
            for (var i = 0; i < n; i++)
            {
                sums[i] += column[i];
            }
        }
        return sums;
    }

    /// <summary>For each row i: log Σ_j exp(x_ij), as max_i + log Σ_j exp(x_ij − max_i) so that ±1e4 stays finite; the
    /// sum accumulated in double. A row of −∞ gives −∞; a row holding NaN or +∞ gives NaN or +∞.</summary>
    /// <param name="x">[n × m], m ≥ 1.</param>
    /// <returns>n values.</returns>
    public static double[] LogSumExp(Matrix<float> x)
    {
        ArgumentNullException.ThrowIfNull(x);
        var (n, m, values) = (x.RowCount, x.ColumnCount, Storage.ColumnMajor(x));
        var (max, shift, sums) = Moments(values, n, m);
        var result = new double[n];
        for (var i = 0; i < n; i++)
        {
            result[i] = float.IsFinite(max[i]) ? shift[i] + Math.Log(sums[i]) : max[i];   // −∞, +∞ or NaN rows say so
        }
        return result;
    }

    /// <summary>Each row's softmax: p_ij = exp(x_ij − max_i) / Σ_j exp(x_ij − max_i), the sum in double. The same policy
    /// as <see cref="Softmax"/>: a row of −∞ becomes zeros, a row holding NaN or +∞ becomes NaN.</summary>
    /// <param name="x">[n × m], m ≥ 1.</param>
    /// <returns>[n × m].</returns>
    public static Matrix<float> Softmax(Matrix<float> x)
    {
        ArgumentNullException.ThrowIfNull(x);
        var (n, m, values) = (x.RowCount, x.ColumnCount, Storage.ColumnMajor(x));
        var (max, shift, sums) = Moments(values, n, m);
        var scale = new float[n];
        for (var i = 0; i < n; i++)
        {
            scale[i] = float.IsNaN(max[i]) || float.IsPositiveInfinity(max[i]) ? float.NaN : sums[i] == 0 ? 0f : (float)(1.0 / sums[i]);
        }
        var result = Storage.NewMatrix(n, m);
        var y = Storage.ColumnMajor(result);
        var vector = SimdDispatch.Current == SimdWidth.Vector512;
        for (var j = 0; j < m; j++)
        {
            var column = values.AsSpan(j * n, n);
            var target = y.AsSpan(j * n, n);
            var i = 0;
            if (vector)
            {
                ref var c = ref MemoryMarshal.GetReference(column);
                ref var t = ref MemoryMarshal.GetReference(target);
                ref var s = ref MemoryMarshal.GetArrayDataReference(shift);
                ref var k = ref MemoryMarshal.GetArrayDataReference(scale);
                for (; i + 16 <= n; i += 16)
                {
                    var e = VectorExp.ExpNonPositive(Vector512.LoadUnsafe(ref c, (nuint)i) - Vector512.LoadUnsafe(ref s, (nuint)i));
                    (e * Vector512.LoadUnsafe(ref k, (nuint)i)).StoreUnsafe(ref t, (nuint)i);
                }
            }
            for (; i < n; i++)
            {
                target[i] = MathF.Exp(column[i] - shift[i]) * scale[i];
            }
        }
        return result;
    }

    /// <summary>Each row's maximum, the shift used (the maximum, or 0 when it is not finite) and Σ_j exp(x_ij − shift_i) in double.</summary>
    private static (float[] Max, float[] Shift, double[] Sums) Moments(float[] values, int n, int m)
    {
        var max = new float[n];
        Array.Fill(max, float.NegativeInfinity);
        for (var j = 0; j < m; j++)
        {
            var column = values.AsSpan(j * n, n);
            for (var i = 0; i < n; i++)
            {
                max[i] = Math.Max(max[i], column[i]);          // Math.Max keeps NaN
            }
        }
        var shift = max.Select(v => float.IsFinite(v) ? v : 0f).ToArray();
        var sums = new double[n];
        var vector = SimdDispatch.Current == SimdWidth.Vector512;
        for (var j = 0; j < m; j++)
        {
            var column = values.AsSpan(j * n, n);
            var i = vector ? AddExp512(column, shift, sums) : 0;
            for (; i < n; i++)
            {
                sums[i] += Math.Exp(column[i] - shift[i]);
            }
        }
        return (max, shift, sums);
    }

    /// <summary>sums[i] += exp(column[i] − shift[i]) sixteen rows at a time; returns the rows done.</summary>
    private static int AddExp512(ReadOnlySpan<float> column, float[] shift, double[] sums)
    {
        ref var c = ref MemoryMarshal.GetReference(column);
        ref var s = ref MemoryMarshal.GetArrayDataReference(shift);
        ref var sum = ref MemoryMarshal.GetArrayDataReference(sums);
        var i = 0;
        for (; i + 16 <= column.Length; i += 16)
        {
            var e = VectorExp.ExpNonPositive(Vector512.LoadUnsafe(ref c, (nuint)i) - Vector512.LoadUnsafe(ref s, (nuint)i));
            var (low, high) = Vector512.Widen(e);
            (Vector512.LoadUnsafe(ref sum, (nuint)i) + low).StoreUnsafe(ref sum, (nuint)i);
            (Vector512.LoadUnsafe(ref sum, (nuint)(i + 8)) + high).StoreUnsafe(ref sum, (nuint)(i + 8));
        }
        return i;
    }
}
