// softmax down every column of a column-major matrix, where each column is contiguous in memory. Attention keeps its
// scores transposed (Sᵀ = K·Qᵀ, [keys × queries]) so that one query's scores are one contiguous column: this kernel
// then reads memory in order, as TensorPrimitives.SoftMax does on a row-major row, but with one exp per element
// instead of two and with the maximum subtracted (so 1e4 logits stay finite).
//   pass 1: m = max of the column
//   pass 2: e = exp(x − m), stored; s = Σ e
//   pass 3: e · (1/s)
namespace Attention.Kernels;

/// <summary>Numerically stable softmax of each contiguous column, in place, at <see cref="SimdDispatch.Current"/>.</summary>
/// <remarks>Policy, shared with <see cref="ColumnSoftmaxReference"/>: a column whose entries are all −∞ (every key masked)
/// becomes all zeros; a column holding NaN or +∞ becomes all NaN (its sum is NaN). The vector exp (<see cref="VectorExp"/>)
/// is within one ulp of the exact value and flushes results below 2⁻¹²⁶ (inputs below −87.3) to zero.</remarks>
internal static class ColumnSoftmax
{
    /// <summary>Replaces each column of the column-major [rows × columns] matrix in <paramref name="values"/> with its softmax.</summary>
    public static void Apply(Span<float> values, int rows, int columns)
    {
        var width = SimdDispatch.Current;
        if (width == SimdWidth.Scalar)
        {
            ColumnSoftmaxReference.Apply(values, rows, columns);
            return;
        }
        for (var j = 0; j < columns; j++)
        {
            var column = values.Slice(j * rows, rows);
            var max = VectorOps.Max(column, width);
            var shift = float.IsNegativeInfinity(max) ? 0.0f : max;       // all −∞: exp gives zeros, not NaN
            var sum = VectorOps.ExpShiftedSum(column, shift, width);
            VectorOps.Scale(column, sum == 0.0f ? 0.0f : 1.0f / sum, width);
        }
    }
}
