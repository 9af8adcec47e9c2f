using Attention.Kernels;
using Attention.Tests.Support;
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Tests.Kernels;

/// <summary>Every vector width of the matmul kernel, held to the scalar reference and to MathNet on awkward sizes.</summary>
public class MatrixMultiplyTests
{
    public static TheoryData<int, int, int, int> Cases()
    {
        var data = new TheoryData<int, int, int, int>();
        foreach (var width in SimdDispatch.Available)
        {
            foreach (var (m, k, n) in new[] { (1, 1, 1), (1, 7, 3), (7, 1, 5), (3, 15, 16), (16, 17, 15), (17, 63, 7), (64, 65, 3), (67, 7, 67), (257, 5, 9) })
            {
                data.Add((int)width, m, k, n);
            }
        }
        return data;
    }

    // Sums of k products of numbers in [−1, 1] in another order: rounding differs by about k·2⁻²⁴ relative to the
    // magnitude of the terms, so the bound scales with √k·1e-6 absolute, far below any indexing mistake (≈ 0.1).
    private static float Tolerance(int k) => 2e-6f * MathF.Sqrt(k) + 1e-6f;

    [Theory]
    [MemberData(nameof(Cases))]
    public void A_times_B_equals_the_reference_and_MathNet(int widthBits, int m, int k, int n)
    {
        var width = (SimdWidth)widthBits; // xUnit theories of public tests cannot take the internal enum
        var a = RandomMatrices.Uniform(m, k, 1);
        var b = RandomMatrices.Uniform(k, n, 2);
        var reference = new float[m * n];
        MatrixMultiplyReference.Multiply(a.ToColumnMajorArray(), b.ToColumnMajorArray(), reference, m, k, n);

        using var _ = SimdDispatch.Force(width);
        var actual = MatrixMultiply.Multiply(a, b);

        Expect.Close(actual, Matrix<float>.Build.Dense(m, n, reference), 0, Tolerance(k), $"A·B at {width}");
        Expect.Close(actual, a * b, 0, Tolerance(k), $"A·B at {width} against MathNet");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void A_times_B_transposed_equals_the_reference_and_MathNet(int widthBits, int m, int k, int n)
    {
        var width = (SimdWidth)widthBits; // xUnit theories of public tests cannot take the internal enum
        var a = RandomMatrices.Uniform(m, k, 3);
        var b = RandomMatrices.Uniform(n, k, 4);
        var reference = new float[m * n];
        MatrixMultiplyReference.MultiplyTransposed(a.ToColumnMajorArray(), b.ToColumnMajorArray(), reference, m, k, n);

        using var _ = SimdDispatch.Force(width);
        var actual = MatrixMultiply.MultiplyTransposed(a, b);

        Expect.Close(actual, Matrix<float>.Build.Dense(m, n, reference), 0, Tolerance(k), $"A·Bᵀ at {width}");
        Expect.Close(actual, a.TransposeAndMultiply(b), 0, Tolerance(k), $"A·Bᵀ at {width} against MathNet");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void A_transposed_times_B_equals_the_reference_and_MathNet(int widthBits, int m, int k, int n)
    {
        var width = (SimdWidth)widthBits; // xUnit theories of public tests cannot take the internal enum
        var a = RandomMatrices.Uniform(k, m, 5);
        var b = RandomMatrices.Uniform(k, n, 6);
        var reference = new float[m * n];
        MatrixMultiplyReference.TransposeMultiply(a.ToColumnMajorArray(), b.ToColumnMajorArray(), reference, m, k, n);

        using var _ = SimdDispatch.Force(width);
        var actual = MatrixMultiply.TransposeMultiply(a, b);

        Expect.Close(actual, Matrix<float>.Build.Dense(m, n, reference), 0, Tolerance(k), $"Aᵀ·B at {width}");
        Expect.Close(actual, a.TransposeThisAndMultiply(b), 0, Tolerance(k), $"Aᵀ·B at {width} against MathNet");
    }

    [Theory]
    [InlineData(300, 300, 40)]   // m > MC and k > KC: several row blocks and two rank-256 updates, on two threads
    [InlineData(130, 520, 800)]  // n > NC: two column blocks; ragged tiles in every direction
    [InlineData(512, 64, 512)]   // Q·Kᵀ of one head
    public void Large_products_cross_every_block_boundary_at_every_width(int m, int k, int n)
    {
        var a = RandomMatrices.Uniform(m, k, 7);
        var b = RandomMatrices.Uniform(k, n, 8);
        var reference = new float[m * n];
        MatrixMultiplyReference.Multiply(a.ToColumnMajorArray(), b.ToColumnMajorArray(), reference, m, k, n);
        foreach (var width in SimdDispatch.Available)
        {
            using var _ = SimdDispatch.Force(width);
            Expect.Close(MatrixMultiply.Multiply(a, b), Matrix<float>.Build.Dense(m, n, reference), 0, Tolerance(k), $"A·B [{m} × {k}]·[{k} × {n}] at {width}");
            Expect.Close(MatrixMultiply.MultiplyTransposed(a, b.Transpose()), Matrix<float>.Build.Dense(m, n, reference), 0, Tolerance(k), $"A·Bᵀ at {width}");
            Expect.Close(MatrixMultiply.TransposeMultiply(a.Transpose(), b), Matrix<float>.Build.Dense(m, n, reference), 0, Tolerance(k), $"Aᵀ·B at {width}");
        }
    }

    [Fact]
    public void The_blocked_product_is_bit_identical_on_one_thread_and_on_many()
    {
        var (m, k, n) = (517, 300, 260);
        var a = RandomMatrices.Uniform(m, k, 9).ToColumnMajorArray();
        var b = RandomMatrices.Uniform(k, n, 10).ToColumnMajorArray();
        foreach (var width in SimdDispatch.Available)
        {
            var one = new float[m * n];
            var many = new float[m * n];
            Gemm.Multiply(a, 1, m, b, 1, k, one, m, k, n, width, maxThreads: 1);
            Gemm.Multiply(a, 1, m, b, 1, k, many, m, k, n, width, maxThreads: 8);
            Expect.BitExact(many, one, $"{width} on 8 threads against 1");
        }
    }

    [Fact]
    public void A_product_with_a_column_stride_fills_a_block_of_rows_and_leaves_the_others()
    {
        // C is rows 3 … 3+m−1 of a taller [10 + m × n] matrix: each column of C starts ldc = 10 + m floats after the last.
        var (m, k, n, ldc, first) = (37, 29, 27, 47, 3);
        var a = RandomMatrices.Uniform(m, k, 11).ToColumnMajorArray();
        var b = RandomMatrices.Uniform(k, n, 12).ToColumnMajorArray();
        var expected = new float[m * n];
        Gemm.Multiply(a, 1, m, b, 1, k, expected, m, k, n, SimdDispatch.Current);
        var tall = Enumerable.Repeat(-7.0f, ldc * n).ToArray();
        Gemm.Multiply(a, 1, m, b, 1, k, tall.AsSpan(first), m, k, n, SimdDispatch.Current, ldc: ldc);
        for (var j = 0; j < n; j++)
        {
            for (var i = 0; i < ldc; i++)
            {
                var inBlock = i >= first && i < first + m;
                tall[i + j * ldc].Should().Be(inBlock ? expected[i - first + j * m] : -7.0f, $"row {i}, column {j}");
            }
        }
    }

    [Fact]
    public void A_small_product_worked_by_hand()
    {
        // [1 2]   [5 6]   [1·5 + 2·7  1·6 + 2·8]   [19 22]
        // [3 4] · [7 8] = [3·5 + 4·7  3·6 + 4·8] = [43 50]
        var a = Matrix<float>.Build.DenseOfArray(new float[,] { { 1, 2 }, { 3, 4 } });
        var b = Matrix<float>.Build.DenseOfArray(new float[,] { { 5, 6 }, { 7, 8 } });
        foreach (var width in SimdDispatch.Available)
        {
            using var _ = SimdDispatch.Force(width);
            MatrixMultiply.Multiply(a, b).Should().Be(Matrix<float>.Build.DenseOfArray(new float[,] { { 19, 22 }, { 43, 50 } }));
        }
    }

    [Fact]
    public void Mismatched_inner_sizes_name_both_shapes()
    {
        var multiply = () => MatrixMultiply.Multiply(Matrix<float>.Build.Dense(2, 3), Matrix<float>.Build.Dense(4, 5));
        multiply.Should().Throw<ArgumentException>().WithMessage("*[2 × 3]*[4 × 5]*");
    }

    [Fact]
    public void NaN_and_infinity_propagate_like_the_reference()
    {
        var a = Matrix<float>.Build.DenseOfArray(new float[,] { { float.NaN, 1 }, { float.PositiveInfinity, 1 }, { 1, 1 } });
        var b = Matrix<float>.Build.DenseOfArray(new float[,] { { 1 }, { 2 } });
        foreach (var width in SimdDispatch.Available)
        {
            using var _ = SimdDispatch.Force(width);
            var c = MatrixMultiply.Multiply(a, b);
            float.IsNaN(c[0, 0]).Should().BeTrue();
            c[1, 0].Should().Be(float.PositiveInfinity);
            c[2, 0].Should().Be(3.0f);
        }
    }

    [Fact]
    public void The_span_overloads_read_column_major_storage_and_leave_the_rest_of_longer_spans_alone()
    {
        // A = [1 2 3] (1 × 3), B = [4 5 6]ᵀ (3 × 1): A·B = 1·4 + 2·5 + 3·6 = 32. The spans carry one spare element each.
        float[] a = [1, 2, 3, 99], b = [4, 5, 6, 99], c = [0, -7];
        MatrixMultiply.Multiply(a, b, c, 1, 3, 1);
        c.Should().Equal(32, -7);
        // A·Bᵀ with B = [4 5 6] (1 × 3) and bias 0.5: 32 + 0.5.
        MatrixMultiply.MultiplyTransposed(a, b, c, 1, 3, 1, [0.5f]);
        c.Should().Equal(32.5f, -7);
        // Aᵀ·B with A = [1 2 3]ᵀ (3 × 1) and B = [4 5 6]ᵀ: the same dot product.
        MatrixMultiply.TransposeMultiply(a, b, c, 1, 3, 1);
        c.Should().Equal(32, -7);
    }

    [Fact]
    public void A_span_shorter_than_its_matrix_is_refused_before_anything_is_read()
    {
        var c = new float[4];
        var shortA = () => MatrixMultiply.Multiply(new float[5], new float[6], c, 2, 3, 2);
        shortA.Should().Throw<ArgumentException>().WithParameterName("a").WithMessage("*[2 × 3] = 6 floats*has 5*");
        var shortC = () => MatrixMultiply.MultiplyTransposed(new float[6], new float[6], new float[3], 2, 3, 2);
        shortC.Should().Throw<ArgumentException>().WithParameterName("c").WithMessage("*[2 × 2] = 4 floats*has 3*");
        var negative = () => MatrixMultiply.TransposeMultiply(new float[6], new float[6], c, -2, 3, 2);
        negative.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("a");
        var bias = () => MatrixMultiply.MultiplyTransposed(new float[6], new float[6], c, 2, 3, 2, new float[3]);
        bias.Should().Throw<ArgumentException>().WithParameterName("columnBias").WithMessage("*n = 2*has 3*");
    }

    [Fact]
    public void A_result_that_overlaps_an_input_is_refused()
    {
        var buffer = new float[8];
        var overlap = () => MatrixMultiply.Multiply(buffer.AsSpan(0, 4), new float[4], buffer.AsSpan(2, 4), 2, 2, 2);
        overlap.Should().Throw<ArgumentException>().WithParameterName("c").WithMessage("*must not overlap a*");
    }

    [Fact]
    public void An_empty_inner_dimension_gives_zeros_or_the_bias()
    {
        // k = 0: each entry of A·Bᵀ is an empty sum, 0, plus the bias of its column.
        var c = new float[] { 9, 9, 9, 9 };
        MatrixMultiply.MultiplyTransposed([], [], c, 2, 0, 2, [1.5f, -2f]);
        c.Should().Equal(1.5f, 1.5f, -2f, -2f);
        MatrixMultiply.Multiply([], [], c, 2, 0, 2);
        c.Should().Equal(0, 0, 0, 0);
    }
}
