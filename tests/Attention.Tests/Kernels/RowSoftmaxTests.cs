using Attention.Kernels;
using Attention.Tests.Support;
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Tests.Kernels;

/// <summary>Every vector width of the row softmax, held to the scalar reference, with the policy for masked and non-finite rows.</summary>
public class RowSoftmaxTests
{
    public static TheoryData<int, int, int> Cases()
    {
        var data = new TheoryData<int, int, int>();
        foreach (var width in SimdDispatch.Available)
        {
            foreach (var (rows, columns) in new[] { (1, 1), (1, 7), (3, 5), (15, 16), (16, 17), (17, 3), (63, 64), (65, 65), (257, 9) })
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
        RowSoftmax.Apply(values, logits.RowCount, logits.ColumnCount);
        return values;
    }

    private static float[] Reference(Matrix<float> logits)
    {
        var values = logits.ToColumnMajorArray();
        RowSoftmaxReference.Apply(values, logits.RowCount, logits.ColumnCount);
        return values;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Every_width_equals_the_reference(int widthBits, int rows, int columns)
    {
        var width = (SimdWidth)widthBits; // xUnit theories of public tests cannot take the internal enum
        var logits = RandomMatrices.Uniform(rows, columns, rows * 31 + columns) * 20;
        // The vector exp and MathF.Exp differ by a few ulps; weights are at most 1, so 1e-6 absolute is ~8 ulps of 1.
        Expect.Close(Softmax(logits, width), Reference(logits), 1e-6f, 1e-7f, $"softmax at {width}", 1);
    }

    [Fact]
    public void Softmax_of_equal_scores_is_uniform()
    {
        // exp(s − s) = 1 for each of 4 keys, so every weight is 1/4.
        foreach (var width in SimdDispatch.Available)
        {
            Softmax(Matrix<float>.Build.Dense(17, 4, 3.0f), width).Should().OnlyContain(w => w == 0.25f);
        }
    }

    [Fact]
    public void Softmax_of_1_and_2_is_e_over_one_plus_e()
    {
        // softmax([1, 2]) = [1, e] / (1 + e) = [0.26894142, 0.73105858]
        foreach (var width in SimdDispatch.Available)
        {
            var logits = Matrix<float>.Build.Dense(16, 2, (_, j) => j + 1.0f);
            var result = Softmax(logits, width);
            result.Take(16).Should().OnlyContain(w => Math.Abs(w - 0.26894142f) < 1e-7f);
            result.Skip(16).Should().OnlyContain(w => Math.Abs(w - 0.73105858f) < 1e-7f);
        }
    }

    [Fact]
    public void Rows_of_huge_logits_stay_finite()
    {
        foreach (var width in SimdDispatch.Available)
        {
            var logits = Matrix<float>.Build.Dense(20, 3, (i, j) => 1e4f * (j + 1));
            Softmax(logits, width).Should().OnlyContain(w => float.IsFinite(w));
        }
    }

    [Fact]
    public void Policy_fully_masked_rows_become_zero_and_rows_with_NaN_or_plus_infinity_become_NaN()
    {
        // Rows 0 (all −∞), 1 (a NaN), 2 (a +∞), 3 (ordinary); 17 rows so each vector width sees them in its lanes.
        var logits = Matrix<float>.Build.Dense(17, 3, (i, j) => (i % 4, j) switch
        {
            (0, _) => float.NegativeInfinity,
            (1, 1) => float.NaN,
            (2, 2) => float.PositiveInfinity,
            _ => j,
        });
        foreach (var width in SimdDispatch.Available)
        {
            var result = Matrix<float>.Build.Dense(17, 3, Softmax(logits, width));
            for (var i = 0; i < 17; i++)
            {
                switch (i % 4)
                {
                    case 0: result.Row(i).Should().OnlyContain(w => w == 0.0f, $"row {i} at {width} is fully masked"); break;
                    case 1 or 2: result.Row(i).Should().OnlyContain(w => float.IsNaN(w), $"row {i} at {width} holds NaN or +∞"); break;
                    default: result.Row(i).Sum().Should().BeApproximately(1.0f, 1e-6f); break;
                }
            }
        }
    }
}
