using Attention.Kernels;
using Attention.Tests.Support;
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Tests.Kernels;

/// <summary>The contiguous-column softmax that attention runs on its transposed scores, at every width, against its scalar twin.</summary>
public class ColumnSoftmaxTests
{
    public static TheoryData<int, int, int> Cases()
    {
        var data = new TheoryData<int, int, int>();
        foreach (var width in SimdDispatch.Available)
        {
            foreach (var (rows, columns) in new[] { (1, 1), (3, 2), (7, 3), (15, 4), (16, 5), (17, 3), (63, 2), (64, 3), (65, 4), (257, 3) })
            {
                data.Add((int)width, rows, columns);
            }
        }
        return data;
    }

    private static float[] Softmax(Matrix<float> logits, SimdWidth width)
    {
        var values = logits.ToColumnMajorArray();
        using var _ = SimdDispatch.Force(width);
        ColumnSoftmax.Apply(values, logits.RowCount, logits.ColumnCount);
        return values;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Every_width_equals_the_reference(int widthBits, int rows, int columns)
    {
        var width = (SimdWidth)widthBits; // xUnit theories of public tests cannot take the internal enum
        var logits = RandomMatrices.Uniform(rows, columns, rows * 13 + columns) * 20;
        var reference = logits.ToColumnMajorArray();
        ColumnSoftmaxReference.Apply(reference, rows, columns);
        // Weights are at most 1; 1e-6 absolute is about 8 ulps of 1, well above the one-ulp exp and a different summation order.
        Expect.Close(Softmax(logits, width), reference, 1e-6f, 1e-7f, $"column softmax at {width}", 1);
    }

    [Fact]
    public void Each_column_is_exp_over_the_sum_of_exps_computed_in_double()
    {
        var logits = RandomMatrices.Uniform(37, 5, 3) * 6;
        var expected = Matrix<float>.Build.Dense(37, 5, (i, j) =>
            (float)(Math.Exp(logits[i, j]) / logits.Column(j).Sum(v => Math.Exp(v))));
        foreach (var width in SimdDispatch.Available)
        {
            Expect.Close(Matrix<float>.Build.Dense(37, 5, Softmax(logits, width)), expected, 1e-6f, 1e-7f, $"softmax at {width}");
        }
    }

    [Fact]
    public void Softmax_of_equal_scores_is_uniform()
    {
        // exp(s − s) = 1 for each of 20 keys, so every weight is 1/20.
        foreach (var width in SimdDispatch.Available)
        {
            Softmax(Matrix<float>.Build.Dense(20, 3, 3.0f), width).Should().OnlyContain(w => w == 0.05f, $"at {width}");
        }
    }

    [Fact]
    public void Softmax_of_1_and_2_is_1_and_e_over_one_plus_e()
    {
        // softmax([1, 2]) = [1, e] / (1 + e) = [0.26894142, 0.73105858]
        foreach (var width in SimdDispatch.Available)
        {
            var result = Softmax(Matrix<float>.Build.DenseOfArray(new float[,] { { 1 }, { 2 } }), width);
            result[0].Should().BeApproximately(0.26894142f, 1e-7f);
            result[1].Should().BeApproximately(0.73105858f, 1e-7f);
        }
    }

    [Fact]
    public void Policy_fully_masked_columns_become_zero_and_columns_with_NaN_or_plus_infinity_become_NaN()
    {
        // Columns 0 (all −∞), 1 (a NaN), 2 (a +∞), 3 (ordinary), each 21 long so vectors and the tail both see them.
        var logits = Matrix<float>.Build.Dense(21, 4, (i, j) => (j, i) switch
        {
            (0, _) => float.NegativeInfinity,
            (1, 19) => float.NaN,
            (2, 3) => float.PositiveInfinity,
            _ => i * 0.5f,
        });
        foreach (var width in SimdDispatch.Available)
        {
            var result = Matrix<float>.Build.Dense(21, 4, Softmax(logits, width));
            result.Column(0).Should().OnlyContain(w => w == 0.0f, $"at {width}");
            result.Column(1).Should().OnlyContain(w => float.IsNaN(w), $"at {width}");
            result.Column(2).Should().OnlyContain(w => float.IsNaN(w), $"at {width}");
            result.Column(3).Sum().Should().BeApproximately(1.0f, 1e-6f);
        }
    }

    [Fact]
    public void Huge_logits_give_the_softmax_of_their_differences()
    {
        // 1e4 + i is exact in float32 (an integer below 2^24), and softmax ignores a common shift: the answer is
        // softmax(0, 1, …, 39), computed here in double. Without the maximum subtracted, exp(1e4) would overflow.
        var sum = Enumerable.Range(0, 40).Sum(i => Math.Exp(i - 39));
        var expected = Matrix<float>.Build.Dense(40, 2, (i, _) => (float)(Math.Exp(i - 39) / sum));
        foreach (var width in SimdDispatch.Available)
        {
            Expect.Close(Matrix<float>.Build.Dense(40, 2, Softmax(Matrix<float>.Build.Dense(40, 2, (i, _) => 1e4f + i), width)), expected, relative: 1e-6f, absolute: 1e-12f, what: $"at {width}");
        }
    }
}
