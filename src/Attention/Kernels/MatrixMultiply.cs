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
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        Shapes.RequireInner(a, nameof(a), b, nameof(b), a.ColumnCount, b.RowCount, "A·B needs a.Columns == b.Rows");
        var c = Storage.NewMatrix(a.RowCount, b.ColumnCount, "A·B", nameof(b));
        Multiply(Storage.ColumnMajor(a), Storage.ColumnMajor(b), Storage.ColumnMajor(c), a.RowCount, a.ColumnCount, b.ColumnCount);
        return c;
    }

    /// <summary>A·Bᵀ as a new matrix.</summary>
    /// <param name="a">[m × k].</param>
    /// <param name="b">[n × k].</param>
    /// <returns>[m × n].</returns>
    public static Matrix<float> MultiplyTransposed(Matrix<float> a, Matrix<float> b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        Shapes.RequireInner(a, nameof(a), b, nameof(b), a.ColumnCount, b.ColumnCount, "A·Bᵀ needs a.Columns == b.Columns");
        var c = Storage.NewMatrix(a.RowCount, b.RowCount, "A·Bᵀ", nameof(b));
        MultiplyTransposed(Storage.ColumnMajor(a), Storage.ColumnMajor(b), Storage.ColumnMajor(c), a.RowCount, a.ColumnCount, b.RowCount);
        return c;
    }

    /// <summary>Aᵀ·B as a new matrix.</summary>
    /// <param name="a">[k × m].</param>
    /// <param name="b">[k × n].</param>
    /// <returns>[m × n].</returns>
    public static Matrix<float> TransposeMultiply(Matrix<float> a, Matrix<float> b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        Shapes.RequireInner(a, nameof(a), b, nameof(b), a.RowCount, b.RowCount, "Aᵀ·B needs a.Rows == b.Rows");
        var c = Storage.NewMatrix(a.ColumnCount, b.ColumnCount, "Aᵀ·B", nameof(b));
        TransposeMultiply(Storage.ColumnMajor(a), Storage.ColumnMajor(b), Storage.ColumnMajor(c), a.ColumnCount, a.RowCount, b.ColumnCount);
        return c;
    }

    /// <summary>y = x·Wᵀ + b as a new matrix: PyTorch's <c>nn.Linear</c> product, with the weight W in PyTorch's [out × in] layout.</summary>
    /// <param name="x">[n × in], one row per token.</param>
    /// <param name="weight">W, [out × in]. Inside a <see cref="FrozenWeights"/> scope it is packed for the product once and reused.</param>
    /// <param name="bias">b, [out], or null.</param>
    /// <returns>y, [n × out].</returns>
    /// <exception cref="ArgumentException">x has not W's in columns, or b is not [out]; the message names both shapes.</exception>
    public static Matrix<float> Linear(Matrix<float> x, Matrix<float> weight, Vector<float>? bias)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(weight);
        var y = Storage.NewMatrix(x.RowCount, weight.RowCount, $"x·Wᵀ for x {Shapes.Of(x)} and W {Shapes.Of(weight)}", nameof(x));
        Linear(x, weight, bias, y);
        return y;
    }

    /// <summary>y = x·Wᵀ + b written into <paramref name="result"/> (MathNet's <c>Multiply(other, result)</c> pattern).</summary>
    /// <param name="x">[n × in].</param>
    /// <param name="weight">W, [out × in].</param>
    /// <param name="bias">b, [out], or null.</param>
    /// <param name="result">[n × out], dense, neither x nor W; overwritten.</param>
    /// <exception cref="ArgumentException">A shape does not fit (the message names both shapes), or the result is not dense or is an input.</exception>
    public static void Linear(Matrix<float> x, Matrix<float> weight, Vector<float>? bias, Matrix<float> result)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(weight);
        Shapes.RequireInner(x, nameof(x), weight, nameof(weight), x.ColumnCount, weight.ColumnCount, "x·Wᵀ needs x.Columns == W.Columns (in_features)");
        if (bias is not null && bias.Count != weight.RowCount)
        {
            throw new ArgumentException($"bias must have {weight.RowCount} entries (one per output, weight is {Shapes.Of(weight)}), but it has {bias.Count}.", nameof(bias));
        }
        Shapes.RequireShape(result, nameof(result), x.RowCount, weight.RowCount, $"[n × out] for x {Shapes.Of(x)} and W {Shapes.Of(weight)}");
        var (a, w, c) = (Storage.ColumnMajor(x), Storage.ColumnMajor(weight), Shapes.DenseArray(result, nameof(result)));
        Shapes.RequireSeparate(c, nameof(result), a, nameof(x));
        Shapes.RequireSeparate(c, nameof(result), w, nameof(weight));
        var b = bias is null ? default : bias.AsArray() ?? bias.ToArray();
        var (m, k, n, width) = (x.RowCount, weight.ColumnCount, weight.RowCount, SimdDispatch.Current);
        // Wᵀ(p, j) = W(j, p) sits at j + p·out in W's column-major storage, or in the panels packed once in a frozen scope.
        Gemm.Multiply(a, 1, m, w, n, 1, c, m, k, n, width, columnBias: b, packedB: FrozenWeights.Transposed(weight, width));
    }

    /// <summary>y = x·Wᵀ + b over column-major spans x [rows × in] and y [rows × out] (the fast path's scratch); unchecked.</summary>
    internal static void Linear(ReadOnlySpan<float> x, int rows, Matrix<float> weight, Vector<float>? bias, Span<float> y)
    {
        var b = bias is null ? default : bias.AsArray() ?? bias.ToArray();
        var width = SimdDispatch.Current;
        Gemm.Multiply(x, 1, rows, Storage.ColumnMajor(weight), weight.RowCount, 1, y, rows, weight.ColumnCount, weight.RowCount, width,
            columnBias: b, packedB: FrozenWeights.Transposed(weight, width));
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
