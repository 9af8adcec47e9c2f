// The per-row sums behind layer normalisation, accumulated in double. One column of a column-major [n × d] matrix holds
// feature j of every row, so each call updates n row sums element by element, one vector lane per row.
//
// Double, not float: the squares of any finite float fit in a double (3.4e38² ≈ 1.2e77), so the mean and variance of
// every finite row are finite, and a constant row of 1e30 has variance exactly 0. In float the squared deviations of
// such a row overflow to ∞ and the variance becomes ∞ − ∞ = NaN.
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Attention.Kernels;

internal static class RowMoments
{
    /// <summary>sum[i] += x[i], widened to double.</summary>
    public static void Add(ReadOnlySpan<float> x, Span<double> sum, SimdWidth width)
    {
        ref var xs = ref MemoryMarshal.GetReference(x);
        ref var ss = ref MemoryMarshal.GetReference(sum);
        nuint n = (nuint)x.Length;
        nuint i = 0;
        if (width == SimdWidth.Vector512)
        {
            for (; i + 16 <= n; i += 16)
            {
                var (lower, upper) = Vector512.Widen(Vector512.LoadUnsafe(ref xs, i));
                (Vector512.LoadUnsafe(ref ss, i) + lower).StoreUnsafe(ref ss, i);
                (Vector512.LoadUnsafe(ref ss, i + 8) + upper).StoreUnsafe(ref ss, i + 8);
            }
        }
        if (width >= SimdWidth.Vector256)
        {
            for (; i + 8 <= n; i += 8)
            {
                var (lower, upper) = Vector256.Widen(Vector256.LoadUnsafe(ref xs, i));
                (Vector256.LoadUnsafe(ref ss, i) + lower).StoreUnsafe(ref ss, i);
                (Vector256.LoadUnsafe(ref ss, i + 4) + upper).StoreUnsafe(ref ss, i + 4);
            }
        }
        for (; i < n; i++)
        {
            Unsafe.Add(ref ss, i) += Unsafe.Add(ref xs, i);
        }
    }

    /// <summary>squares[i] += (x[i] − mean[i])², in double.</summary>
    public static void AddSquaredDeviations(ReadOnlySpan<float> x, ReadOnlySpan<double> mean, Span<double> squares, SimdWidth width)
    {
        ref var xs = ref MemoryMarshal.GetReference(x);
        ref var ms = ref MemoryMarshal.GetReference(mean);
        ref var qs = ref MemoryMarshal.GetReference(squares);
        nuint n = (nuint)x.Length;
        nuint i = 0;
        if (width == SimdWidth.Vector512)
        {
            for (; i + 16 <= n; i += 16)
            {
                var (lower, upper) = Vector512.Widen(Vector512.LoadUnsafe(ref xs, i));
                var c0 = lower - Vector512.LoadUnsafe(ref ms, i);
                var c1 = upper - Vector512.LoadUnsafe(ref ms, i + 8);
                Vector512.FusedMultiplyAdd(c0, c0, Vector512.LoadUnsafe(ref qs, i)).StoreUnsafe(ref qs, i);
                Vector512.FusedMultiplyAdd(c1, c1, Vector512.LoadUnsafe(ref qs, i + 8)).StoreUnsafe(ref qs, i + 8);
            }
        }
        if (width >= SimdWidth.Vector256)
        {
            for (; i + 8 <= n; i += 8)
            {
                var (lower, upper) = Vector256.Widen(Vector256.LoadUnsafe(ref xs, i));
                var c0 = lower - Vector256.LoadUnsafe(ref ms, i);
                var c1 = upper - Vector256.LoadUnsafe(ref ms, i + 4);
                Vector256.FusedMultiplyAdd(c0, c0, Vector256.LoadUnsafe(ref qs, i)).StoreUnsafe(ref qs, i);
                Vector256.FusedMultiplyAdd(c1, c1, Vector256.LoadUnsafe(ref qs, i + 4)).StoreUnsafe(ref qs, i + 4);
            }
        }
        for (; i < n; i++)
        {
            var c = Unsafe.Add(ref xs, i) - Unsafe.Add(ref ms, i);
            Unsafe.Add(ref qs, i) = Math.FusedMultiplyAdd(c, c, Unsafe.Add(ref qs, i));
        }
    }
}
