using System.Globalization;
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Tests.Support;

/// <summary>
/// Element-wise comparisons that print the largest difference and where it is, as llm.c's tests do.
/// The tolerance is |actual − expected| ≤ absolute + relative·|expected|, and ±∞ must match exactly.
/// </summary>
public static class Expect
{
    /// <summary>float32 rounding over a handful of operations: about 1e-5 relative, with a small absolute floor for values near 0.</summary>
    public const float Relative = 1e-5f;

    public const float Absolute = 1e-6f;

    public static void Close(Matrix<float> actual, Matrix<float> expected, float relative = Relative, float absolute = Absolute, string what = "matrix")
    {
        actual.RowCount.Should().Be(expected.RowCount, $"{what} should have {expected.RowCount} rows");
        actual.ColumnCount.Should().Be(expected.ColumnCount, $"{what} should have {expected.ColumnCount} columns");
        Close(actual.ToRowMajorArray(), expected.ToRowMajorArray(), relative, absolute, what, expected.ColumnCount);
    }

    public static void Close(Vector<float> actual, Vector<float> expected, float relative = Relative, float absolute = Absolute, string what = "vector") =>
        Close(actual.ToArray(), expected.ToArray(), relative, absolute, what, expected.Count);

    public static void Close(IReadOnlyList<float> actual, IReadOnlyList<float> expected, float relative, float absolute, string what, int columns)
    {
        actual.Should().HaveCount(expected.Count, $"{what} should have {expected.Count} elements");
        var worst = -1;
        var worstExcess = 0.0;
        var maxDifference = 0.0;
        for (var i = 0; i < expected.Count; i++)
        {
            double a = actual[i], e = expected[i];
            if (float.IsNaN(expected[i]) || float.IsInfinity(expected[i]))
            {
                if (!a.Equals(e))
                {
                    worst = i;
                    worstExcess = double.PositiveInfinity;
                }
                continue;
            }
            var difference = Math.Abs(a - e);
            if (double.IsNaN(difference))
            {
                difference = double.PositiveInfinity;
            }
            maxDifference = Math.Max(maxDifference, difference);
            var excess = difference - (absolute + relative * Math.Abs(e));
            if (excess > worstExcess)
            {
                worst = i;
                worstExcess = excess;
            }
        }
        if (worst >= 0)
        {
            var (row, column) = (worst / Math.Max(1, columns), worst % Math.Max(1, columns));
            Assert.Fail(string.Create(CultureInfo.InvariantCulture,
                $"{what}: element [{row}, {column}] is {actual[worst]:R} but should be {expected[worst]:R} (tolerance {absolute} + {relative}·|expected|); largest difference over all elements {maxDifference:E3}."));
        }
    }

    /// <summary>Every element equal to the last bit (NaN equal to NaN).</summary>
    public static void BitExact(IReadOnlyList<float> actual, IReadOnlyList<float> expected, string what)
    {
        actual.Should().HaveCount(expected.Count, $"{what} should have {expected.Count} elements");
        for (var i = 0; i < expected.Count; i++)
        {
            if (BitConverter.SingleToInt32Bits(actual[i]) != BitConverter.SingleToInt32Bits(expected[i]))
            {
                Assert.Fail(string.Create(CultureInfo.InvariantCulture,
                    $"{what}: element {i} is {actual[i]:R} (0x{BitConverter.SingleToInt32Bits(actual[i]):X8}) but PyTorch gives {expected[i]:R} (0x{BitConverter.SingleToInt32Bits(expected[i]):X8})."));
            }
        }
    }
}
