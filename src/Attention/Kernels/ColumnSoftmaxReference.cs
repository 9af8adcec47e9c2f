// The specification of ColumnSoftmax, one contiguous column at a time in scalar float arithmetic:
//   m = max_j x_j;  e_j = exp(x_j − m);  y_j = e_j / Σ e
namespace Attention.Kernels;

/// <summary>Scalar twin of <see cref="ColumnSoftmax"/>, with the same policy for masked and non-finite columns.</summary>
internal static class ColumnSoftmaxReference
{
    /// <summary>Replaces each column of the column-major [rows × columns] matrix with its softmax.</summary>
    public static void Apply(Span<float> values, int rows, int columns)
    {
        for (var j = 0; j < columns; j++)
        {
            Column(values.Slice(j * rows, rows));
        }
    }

    /// <summary>Softmax of one contiguous column, in place.</summary>
    public static void Column(Span<float> x)
    {
        var max = float.NegativeInfinity;
        foreach (var value in x)
        {
            max = MathF.Max(max, value); // MathF.Max propagates NaN
        }
        if (float.IsNegativeInfinity(max))
        {
            max = 0.0f; // every entry is −∞: exp gives zeros, and the column stays zero below
        }
        var sum = 0.0f;
        for (var i = 0; i < x.Length; i++)
        {
            x[i] = MathF.Exp(x[i] - max);
            sum += x[i];
        }
        var scale = sum == 0.0f ? 0.0f : 1.0f / sum;
        for (var i = 0; i < x.Length; i++)
        {
            x[i] *= scale;
        }
    }
}
