// The specification of MatrixMultiply: the textbook triple loop, C[i, j] = Σ_p A[i, p]·B[p, j],
// over the same column-major layout, in scalar float arithmetic.
namespace Attention.Kernels;

/// <summary>Scalar twins of <see cref="MatrixMultiply"/>, written for reading rather than speed.</summary>
internal static class MatrixMultiplyReference
{
    /// <summary>C[m × n] = A[m × k] · B[k × n], column-major.</summary>
    public static void Multiply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int k, int n)
    {
        for (var i = 0; i < m; i++)
        {
            for (var j = 0; j < n; j++)
            {
                var sum = 0.0f;
                for (var p = 0; p < k; p++)
                {
                    sum += a[i + p * m] * b[p + j * k];
                }
                c[i + j * m] = sum;
            }
        }
    }

    /// <summary>C[m × n] = A[m × k] · Bᵀ with B [n × k], column-major.</summary>
    public static void MultiplyTransposed(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int k, int n)
    {
        for (var i = 0; i < m; i++)
        {
            for (var j = 0; j < n; j++)
            {
                var sum = 0.0f;
                for (var p = 0; p < k; p++)
                {
                    sum += a[i + p * m] * b[j + p * n];
                }
                c[i + j * m] = sum;
            }
        }
    }

    /// <summary>C[m × n] = Aᵀ · B with A [k × m] and B [k × n], column-major.</summary>
    public static void TransposeMultiply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int k, int n)
    {
        for (var i = 0; i < m; i++)
        {
            for (var j = 0; j < n; j++)
            {
                var sum = 0.0f;
                for (var p = 0; p < k; p++)
                {
                    sum += a[p + i * k] * b[p + j * k];
                }
                c[i + j * m] = sum;
            }
        }
    }
}
