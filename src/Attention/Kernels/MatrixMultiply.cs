// Matrix products on MathNet's column-major storage: element (i, j) of an [r × c] matrix sits at i + j·r.
// All three go to the blocked, packed, register-tiled Gemm (see Gemm.cs and docs/kernels.md) at every vector width,
// scalar included; only the strides differ, so no operand is ever transposed by copying.
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Kernels;

/// <summary>C = A·B, C = A·Bᵀ and C = Aᵀ·B: over MathNet matrices, or over column-major spans (element (i, j) of an
/// [r × c] matrix at i + j·r), on every core for large products, vectorized at the widest width the CPU has.</summary>
/// <remarks>The result is bit-identical whatever the number of cores. Spans may be longer than the matrix they hold (the
/// rest is neither read nor written); the output span must not overlap an input. The scalar specification is
/// <c>MatrixMultiplyReference</c> in the library's source; tests hold the two together.</remarks>
public static class MatrixMultiply
{
    /// <summary>C[m × n] = A[m × k] · B[k × n]; all column-major; the first m·n elements of <paramref name="c"/> are overwritten.</summary>
    /// <param name="a">A, [m × k] column-major.</param>
    /// <param name="b">B, [k × n] column-major.</param>
    /// <param name="c">C, [m × n] column-major: the result.</param>
    /// <param name="m">Rows of A and C.</param>
    /// <param name="k">Columns of A, rows of B.</param>
    /// <param name="n">Columns of B and C.</param>
    /// <exception cref="ArgumentException">A span is shorter than its matrix, or <paramref name="c"/> overlaps an input.</exception>
    public static void Multiply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int k, int n)
    {
        Check(a, m, k, "A", b, k, n, "B", c, m, n);
        Gemm.Multiply(a, 1, m, b, 1, k, c, m, k, n, SimdDispatch.Current); // A(i, p) = a[i + p·m], B(p, j) = b[p + j·k]
    }

    /// <summary>C[m × n] = A[m × k] · Bᵀ (+ bias[j] down each column j when <paramref name="columnBias"/> is given), where B is [n × k];
    /// all column-major; the first m·n elements of <paramref name="c"/> are overwritten. With B a Linear weight [out × in]
    /// this is y = x·Wᵀ + b, PyTorch's <c>nn.Linear</c>.</summary>
    /// <param name="a">A, [m × k] column-major.</param>
    /// <param name="b">B, [n × k] column-major.</param>
    /// <param name="c">C, [m × n] column-major: the result.</param>
    /// <param name="m">Rows of A and C.</param>
    /// <param name="k">Columns of A and of B.</param>
    /// <param name="n">Rows of B, columns of C.</param>
    /// <param name="columnBias">Empty, or [n]: C's column j starts at bias[j] instead of 0 (no extra pass).</param>
    /// <exception cref="ArgumentException">A span is shorter than its matrix, the bias is not [n], or <paramref name="c"/> overlaps an input.</exception>
    public static void MultiplyTransposed(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int k, int n, ReadOnlySpan<float> columnBias = default)
    {
        Check(a, m, k, "A", b, n, k, "B", c, m, n);
        if (!columnBias.IsEmpty && columnBias.Length != n)
        {
            throw new ArgumentException($"columnBias must be empty or hold n = {n} floats, one per column of C, but it has {columnBias.Length}.", nameof(columnBias));
        }
        Shapes.RequireSeparate(c, nameof(c), columnBias, nameof(columnBias));
        Gemm.Multiply(a, 1, m, b, n, 1, c, m, k, n, SimdDispatch.Current, columnBias: columnBias); // Bᵀ(p, j) = B(j, p) = b[j + p·n]
    }

    /// <summary>C[m × n] = Aᵀ · B where A is [k × m] and B is [k × n]; all column-major; the first m·n elements of <paramref name="c"/> are overwritten.</summary>
    /// <param name="a">A, [k × m] column-major.</param>
    /// <param name="b">B, [k × n] column-major.</param>
    /// <param name="c">C, [m × n] column-major: the result.</param>
    /// <param name="m">Columns of A, rows of C.</param>
    /// <param name="k">Rows of A and of B.</param>
    /// <param name="n">Columns of B and C.</param>
    /// <exception cref="ArgumentException">A span is shorter than its matrix, or <paramref name="c"/> overlaps an input.</exception>
    public static void TransposeMultiply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int k, int n)
    {
        Check(a, k, m, "A", b, k, n, "B", c, m, n);
        Gemm.Multiply(a, k, 1, b, 1, k, c, m, k, n, SimdDispatch.Current); // Aᵀ(i, p) = A(p, i) = a[p + i·k]
    }

    /// <summary>A·B as a new matrix.</summary>
    /// <param name="a">[m × k].</param>
    /// <param name="b">[k × n].</param>
    /// <returns>[m × n].</returns>
    public static Matrix<float> Multiply(Matrix<float> a, Matrix<float> b)
    {
        Shapes.RequireInner(a, nameof(a), b, nameof(b), a.ColumnCount, b.RowCount, "A·B needs a.Columns == b.Rows");
        var c = Storage.NewArray(a.RowCount * b.ColumnCount);
        Multiply(Storage.ColumnMajor(a), Storage.ColumnMajor(b), c, a.RowCount, a.ColumnCount, b.ColumnCount);
        return Matrix<float>.Build.Dense(a.RowCount, b.ColumnCount, c);
    }

    /// <summary>A·Bᵀ as a new matrix.</summary>
    /// <param name="a">[m × k].</param>
    /// <param name="b">[n × k].</param>
    /// <returns>[m × n].</returns>
    public static Matrix<float> MultiplyTransposed(Matrix<float> a, Matrix<float> b)
    {
        Shapes.RequireInner(a, nameof(a), b, nameof(b), a.ColumnCount, b.ColumnCount, "A·Bᵀ needs a.Columns == b.Columns");
        var c = Storage.NewArray(a.RowCount * b.RowCount);
        MultiplyTransposed(Storage.ColumnMajor(a), Storage.ColumnMajor(b), c, a.RowCount, a.ColumnCount, b.RowCount);
        return Matrix<float>.Build.Dense(a.RowCount, b.RowCount, c);
    }

    /// <summary>Aᵀ·B as a new matrix.</summary>
    /// <param name="a">[k × m].</param>
    /// <param name="b">[k × n].</param>
    /// <returns>[m × n].</returns>
    public static Matrix<float> TransposeMultiply(Matrix<float> a, Matrix<float> b)
    {
        Shapes.RequireInner(a, nameof(a), b, nameof(b), a.RowCount, b.RowCount, "Aᵀ·B needs a.Rows == b.Rows");
        var c = Storage.NewArray(a.ColumnCount * b.ColumnCount);
        TransposeMultiply(Storage.ColumnMajor(a), Storage.ColumnMajor(b), c, a.ColumnCount, a.RowCount, b.ColumnCount);
        return Matrix<float>.Build.Dense(a.ColumnCount, b.ColumnCount, c);
    }

    private static void Check(ReadOnlySpan<float> a, int aRows, int aColumns, string aName, ReadOnlySpan<float> b, int bRows, int bColumns, string bName,
        ReadOnlySpan<float> c, int m, int n)
    {
        Shapes.RequireSpan(a.Length, "a", aRows, aColumns, aName);
        Shapes.RequireSpan(b.Length, "b", bRows, bColumns, bName);
        Shapes.RequireSpan(c.Length, "c", m, n, "C");
        Shapes.RequireSeparate(c, "c", a, "a");
        Shapes.RequireSeparate(c, "c", b, "b");
    }
}
