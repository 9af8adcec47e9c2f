// softmax(x)_j = exp(x_j − max x) / Σ_k exp(x_k − max x), for every row of a column-major matrix.
// Subtracting the row maximum keeps exp from overflowing (TensorPrimitives.SoftMax does not).
// Rows are strided in column-major storage, so the vector lanes run across W neighbouring rows at once:
//   pass 1: running maximum of W rows, column by column
//   pass 2: e = exp(x − max), stored in place, and the running sum
//   pass 3: scale each e by 1 / sum
// Rows left over (rows mod W) take the scalar path, one row at a time.
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Attention.Kernels;

/// <summary>Numerically stable softmax over each row, in place, vectorized at <see cref="SimdDispatch.Current"/>.</summary>
/// <remarks>
/// Policy, shared with <see cref="RowSoftmaxReference"/>: a row whose entries are all −∞ (every key masked)
/// becomes all zeros; a row holding NaN or +∞ becomes all NaN. The vector exp (.NET's <c>Vector512.Exp</c>
/// and narrower twins) differs from <c>MathF.Exp</c> by at most a few ulps; the tests bound the difference.
/// </remarks>
internal static class RowSoftmax
{
    /// <summary>Replaces every row of the column-major [rows × columns] matrix in <paramref name="values"/> with its softmax.</summary>
    public static void Apply(Span<float> values, int rows, int columns)
    {
        var done = SimdDispatch.Current switch
        {
            SimdWidth.Vector512 => Vector512Rows(values, rows, columns),
            SimdWidth.Vector256 => Vector256Rows(values, rows, columns),
            SimdWidth.Vector128 => Vector128Rows(values, rows, columns),
            _ => 0,
        };
        for (var i = done; i < rows; i++)
        {
            RowSoftmaxReference.Row(values, rows, columns, i);
        }
    }

    private static int Vector512Rows(Span<float> values, int rows, int columns)
    {
        ref var x = ref MemoryMarshal.GetReference(values);
        var lanes = Vector512<float>.Count;
        var i = 0;
        for (; i + lanes <= rows; i += lanes)
        {
            var max = Vector512.Create(float.NegativeInfinity);
            for (var j = 0; j < columns; j++)
            {
                max = Vector512.Max(max, Vector512.LoadUnsafe(ref x, (nuint)(i + j * rows)));
            }
            // A fully masked row has max = −∞; shifting by 0 instead keeps exp(−∞) = 0 rather than NaN.
            max = Vector512.ConditionalSelect(Vector512.Equals(max, Vector512.Create(float.NegativeInfinity)), Vector512<float>.Zero, max);
            var sum = Vector512<float>.Zero;
            for (var j = 0; j < columns; j++)
            {
                var e = Vector512.Exp(Vector512.LoadUnsafe(ref x, (nuint)(i + j * rows)) - max);
                e.StoreUnsafe(ref x, (nuint)(i + j * rows));
                sum += e;
            }
            var scale = Vector512.ConditionalSelect(Vector512.Equals(sum, Vector512<float>.Zero), Vector512<float>.Zero, Vector512<float>.One / sum);
            for (var j = 0; j < columns; j++)
            {
                (Vector512.LoadUnsafe(ref x, (nuint)(i + j * rows)) * scale).StoreUnsafe(ref x, (nuint)(i + j * rows));
            }
        }
        return i;
    }

    private static int Vector256Rows(Span<float> values, int rows, int columns)
    {
        ref var x = ref MemoryMarshal.GetReference(values);
        var lanes = Vector256<float>.Count;
        var i = 0;
        for (; i + lanes <= rows; i += lanes)
        {
            var max = Vector256.Create(float.NegativeInfinity);
            for (var j = 0; j < columns; j++)
            {
                max = Vector256.Max(max, Vector256.LoadUnsafe(ref x, (nuint)(i + j * rows)));
            }
            max = Vector256.ConditionalSelect(Vector256.Equals(max, Vector256.Create(float.NegativeInfinity)), Vector256<float>.Zero, max);
            var sum = Vector256<float>.Zero;
            for (var j = 0; j < columns; j++)
            {
                var e = Vector256.Exp(Vector256.LoadUnsafe(ref x, (nuint)(i + j * rows)) - max);
                e.StoreUnsafe(ref x, (nuint)(i + j * rows));
                sum += e;
            }
            var scale = Vector256.ConditionalSelect(Vector256.Equals(sum, Vector256<float>.Zero), Vector256<float>.Zero, Vector256<float>.One / sum);
            for (var j = 0; j < columns; j++)
            {
                (Vector256.LoadUnsafe(ref x, (nuint)(i + j * rows)) * scale).StoreUnsafe(ref x, (nuint)(i + j * rows));
            }
        }
        return i;
    }

    private static int Vector128Rows(Span<float> values, int rows, int columns)
    {
        ref var x = ref MemoryMarshal.GetReference(values);
        var lanes = Vector128<float>.Count;
        var i = 0;
        for (; i + lanes <= rows; i += lanes)
        {
            var max = Vector128.Create(float.NegativeInfinity);
            for (var j = 0; j < columns; j++)
            {
                max = Vector128.Max(max, Vector128.LoadUnsafe(ref x, (nuint)(i + j * rows)));
            }
            max = Vector128.ConditionalSelect(Vector128.Equals(max, Vector128.Create(float.NegativeInfinity)), Vector128<float>.Zero, max);
            var sum = Vector128<float>.Zero;
            for (var j = 0; j < columns; j++)
            {
                var e = Vector128.Exp(Vector128.LoadUnsafe(ref x, (nuint)(i + j * rows)) - max);
                e.StoreUnsafe(ref x, (nuint)(i + j * rows));
                sum += e;
            }
            var scale = Vector128.ConditionalSelect(Vector128.Equals(sum, Vector128<float>.Zero), Vector128<float>.Zero, Vector128<float>.One / sum);
            for (var j = 0; j < columns; j++)
            {
                (Vector128.LoadUnsafe(ref x, (nuint)(i + j * rows)) * scale).StoreUnsafe(ref x, (nuint)(i + j * rows));
            }
        }
        return i;
    }
}
