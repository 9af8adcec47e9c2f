// softmax down every column of a column-major matrix, where each column is contiguous in memory. Attention keeps its
// scores transposed (Sᵀ = K·Qᵀ, [keys × queries]) so that one query's scores are one contiguous column: this kernel
// then reads memory in order, as TensorPrimitives.SoftMax does on a row-major row, but with one exp per element
// instead of two and with the maximum subtracted (so 1e4 logits stay finite).
//   pass 1: m = max of the column        (vectors, then the ragged tail)
//   pass 2: e = exp(x − m), stored; s = Σ e
//   pass 3: e · (1/s)
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Attention.Kernels;

/// <summary>Numerically stable softmax of each contiguous column, in place, at <see cref="SimdDispatch.Current"/>.</summary>
/// <remarks>Policy, shared with <see cref="ColumnSoftmaxReference"/>: a column whose entries are all −∞ (every key masked)
/// becomes all zeros; a column holding NaN or +∞ becomes all NaN. The vector exp (<see cref="VectorExp"/>) is within one ulp
/// of the exact value and flushes results below 2⁻¹²⁶ (inputs below −87.3) to zero.</remarks>
internal static class ColumnSoftmax
{
    /// <summary>Replaces each column of the column-major [rows × columns] matrix in <paramref name="values"/> with its softmax.</summary>
    public static void Apply(Span<float> values, int rows, int columns)
    {
        var width = SimdDispatch.Current;
        for (var j = 0; j < columns; j++)
        {
            var column = values.Slice(j * rows, rows);
            switch (width)
            {
                case SimdWidth.Vector512 when rows >= Vector512<float>.Count:
                    Column512(column);
                    break;
                case SimdWidth.Vector512 or SimdWidth.Vector256 when rows >= Vector256<float>.Count:
                    Column256(column);
                    break;
                case SimdWidth.Scalar:
                    ColumnSoftmaxReference.Column(column);
                    break;
                default:
                    Column128OrScalar(column);
                    break;
            }
        }
    }

    private static void Column512(Span<float> x)
    {
        var v = MemoryMarshal.Cast<float, Vector512<float>>(x);
        var tail = x[(v.Length * Vector512<float>.Count)..];
        var max = Vector512.Create(float.NegativeInfinity);
        foreach (var block in v)
        {
            max = Vector512.MaxNative(max, block); // a NaN lost here still turns the sum, and so the column, into NaN
        }
        var m = MaxAcross(max, MaxOf(tail));
        var shift = Vector512.Create(float.IsNegativeInfinity(m) ? 0.0f : m); // all −∞: exp gives zeros, not NaN
        var sum = Vector512<float>.Zero;
        for (var i = 0; i < v.Length; i++)
        {
            v[i] = VectorExp.ExpNonPositive(v[i] - shift);
            sum += v[i];
        }
        var total = Vector512.Sum(sum) + ExpTail(tail, shift.ToScalar());
        var scale = Vector512.Create(total == 0.0f ? 0.0f : 1.0f / total);
        for (var i = 0; i < v.Length; i++)
        {
            v[i] *= scale;
        }
        ScaleTail(tail, scale.ToScalar());
    }

    private static void Column256(Span<float> x)
    {
        var v = MemoryMarshal.Cast<float, Vector256<float>>(x);
        var tail = x[(v.Length * Vector256<float>.Count)..];
        var max = Vector256.Create(float.NegativeInfinity);
        foreach (var block in v)
        {
            max = Vector256.MaxNative(max, block); // a NaN lost here still turns the sum, and so the column, into NaN
        }
        var m = MaxOf(tail);
        for (var lane = 0; lane < Vector256<float>.Count; lane++)
        {
            m = MathF.Max(m, max.GetElement(lane));
        }
        var shift = Vector256.Create(float.IsNegativeInfinity(m) ? 0.0f : m);
        var sum = Vector256<float>.Zero;
        for (var i = 0; i < v.Length; i++)
        {
            v[i] = VectorExp.ExpNonPositive(v[i] - shift);
            sum += v[i];
        }
        var total = Vector256.Sum(sum) + ExpTail(tail, shift.ToScalar());
        var scale = Vector256.Create(total == 0.0f ? 0.0f : 1.0f / total);
        for (var i = 0; i < v.Length; i++)
        {
            v[i] *= scale;
        }
        ScaleTail(tail, scale.ToScalar());
    }

    private static void Column128OrScalar(Span<float> x)
    {
        var v = MemoryMarshal.Cast<float, Vector128<float>>(x);
        var tail = x[(v.Length * Vector128<float>.Count)..];
        var max = Vector128.Create(float.NegativeInfinity);
        foreach (var block in v)
        {
            max = Vector128.MaxNative(max, block); // a NaN lost here still turns the sum, and so the column, into NaN
        }
        var m = MaxOf(tail);
        for (var lane = 0; lane < Vector128<float>.Count; lane++)
        {
            m = MathF.Max(m, max.GetElement(lane));
        }
        var shift = Vector128.Create(float.IsNegativeInfinity(m) ? 0.0f : m);
        var sum = Vector128<float>.Zero;
        for (var i = 0; i < v.Length; i++)
        {
            v[i] = VectorExp.ExpNonPositive(v[i] - shift);
            sum += v[i];
        }
        var total = Vector128.Sum(sum) + ExpTail(tail, shift.ToScalar());
        var scale = Vector128.Create(total == 0.0f ? 0.0f : 1.0f / total);
        for (var i = 0; i < v.Length; i++)
        {
            v[i] *= scale;
        }
        ScaleTail(tail, scale.ToScalar());
    }

    private static float MaxAcross(Vector512<float> max, float m)
    {
        for (var lane = 0; lane < Vector512<float>.Count; lane++)
        {
            m = MathF.Max(m, max.GetElement(lane));
        }
        return m;
    }

    private static float MaxOf(ReadOnlySpan<float> tail)
    {
        var m = float.NegativeInfinity;
        foreach (var value in tail)
        {
            m = MathF.Max(m, value);
        }
        return m;
    }

    private static float ExpTail(Span<float> tail, float shift)
    {
        var sum = 0.0f;
        for (var i = 0; i < tail.Length; i++)
        {
            tail[i] = MathF.Exp(tail[i] - shift);
            sum += tail[i];
        }
        return sum;
    }

    private static void ScaleTail(Span<float> tail, float scale)
    {
        for (var i = 0; i < tail.Length; i++)
        {
            tail[i] *= scale;
        }
    }
}
