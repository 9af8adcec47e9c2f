// The specification of RowSoftmax, one row at a time in scalar float arithmetic:
//   m = max_j x_j;  e_j = exp(x_j − m);  y_j = e_j / Σ e
namespace Attention.Kernels;

/// <summary>Scalar twin of <see cref="RowSoftmax"/>, with the same policy for masked and non-finite rows.</summary>
internal static class RowSoftmaxReference
{
    /// <summary>Replaces every row of the column-major [rows × columns] matrix in <paramref name="values"/> with its softmax.</summary>
    public static void Apply(Span<float> values, int rows, int columns)
    {
        for (var i = 0; i < rows; i++)
        {
            Row(values, rows, columns, i);
        }
    }

    /// <summary>Softmax of row <paramref name="row"/> in place.</summary>
    public static void Row(Span<float> values, int rows, int columns, int row)
    {
        var max = float.NegativeInfinity;
        for (var j = 0; j < columns; j++)
        {
            max = MathF.Max(max, values[row + j * rows]); // MathF.Max propagates NaN
        }
        if (float.IsNegativeInfinity(max))
        {
            max = 0.0f; // every entry is −∞: exp gives zeros, and the row stays zero below
        }
        var sum = 0.0f;
        for (var j = 0; j < columns; j++)
        {
            var e = MathF.Exp(values[row + j * rows] - max);
            values[row + j * rows] = e;
            sum += e;
        }
        var scale = sum == 0.0f ? 0.0f : 1.0f / sum;
        for (var j = 0; j < columns; j++)
        {
            values[row + j * rows] *= scale;
        }
    }
}
