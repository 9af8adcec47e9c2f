// The two inner loops every kernel here is built from, at each vector width:
//   MultiplyAdd: y += α·x      (one column of A·B gains α times one column of A)
//   Dot:         Σ x[i]·y[i]   (one entry of Aᵀ·B)
// Widest vector first; the ragged tail is finished by a scalar loop.
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Attention.Kernels;

internal static class VectorOps
{
    /// <summary>y += alpha·x, element by element. <paramref name="x"/> and <paramref name="y"/> have the same length.</summary>
    public static void MultiplyAdd(float alpha, ReadOnlySpan<float> x, Span<float> y, SimdWidth width)
    {
        ref var xs = ref MemoryMarshal.GetReference(x);
        ref var ys = ref MemoryMarshal.GetReference(y);
        nuint n = (nuint)y.Length;
        nuint i = 0;
        switch (width)
        {
            case SimdWidth.Vector512:
                var a512 = Vector512.Create(alpha);
                for (; i + (nuint)Vector512<float>.Count <= n; i += (nuint)Vector512<float>.Count)
                {
                    Vector512.MultiplyAddEstimate(a512, Vector512.LoadUnsafe(ref xs, i), Vector512.LoadUnsafe(ref ys, i)).StoreUnsafe(ref ys, i);
                }
                break;
            case SimdWidth.Vector256:
                var a256 = Vector256.Create(alpha);
                for (; i + (nuint)Vector256<float>.Count <= n; i += (nuint)Vector256<float>.Count)
                {
                    Vector256.MultiplyAddEstimate(a256, Vector256.LoadUnsafe(ref xs, i), Vector256.LoadUnsafe(ref ys, i)).StoreUnsafe(ref ys, i);
                }
                break;
            case SimdWidth.Vector128:
                var a128 = Vector128.Create(alpha);
                for (; i + (nuint)Vector128<float>.Count <= n; i += (nuint)Vector128<float>.Count)
                {
                    Vector128.MultiplyAddEstimate(a128, Vector128.LoadUnsafe(ref xs, i), Vector128.LoadUnsafe(ref ys, i)).StoreUnsafe(ref ys, i);
                }
                break;
        }
        for (; i < n; i++)
        {
            Unsafe.Add(ref ys, i) += alpha * Unsafe.Add(ref xs, i);
        }
    }

    /// <summary>Σ x[i]·y[i]. <paramref name="x"/> and <paramref name="y"/> have the same length.</summary>
    public static float Dot(ReadOnlySpan<float> x, ReadOnlySpan<float> y, SimdWidth width)
    {
        ref var xs = ref MemoryMarshal.GetReference(x);
        ref var ys = ref MemoryMarshal.GetReference(y);
        nuint n = (nuint)x.Length;
        nuint i = 0;
        var sum = 0.0f;
        switch (width)
        {
            case SimdWidth.Vector512:
                var s512 = Vector512<float>.Zero;
                for (; i + (nuint)Vector512<float>.Count <= n; i += (nuint)Vector512<float>.Count)
                {
                    s512 = Vector512.MultiplyAddEstimate(Vector512.LoadUnsafe(ref xs, i), Vector512.LoadUnsafe(ref ys, i), s512);
                }
                sum = Vector512.Sum(s512);
                break;
            case SimdWidth.Vector256:
                var s256 = Vector256<float>.Zero;
                for (; i + (nuint)Vector256<float>.Count <= n; i += (nuint)Vector256<float>.Count)
                {
                    s256 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref xs, i), Vector256.LoadUnsafe(ref ys, i), s256);
                }
                sum = Vector256.Sum(s256);
                break;
            case SimdWidth.Vector128:
                var s128 = Vector128<float>.Zero;
                for (; i + (nuint)Vector128<float>.Count <= n; i += (nuint)Vector128<float>.Count)
                {
                    s128 = Vector128.MultiplyAddEstimate(Vector128.LoadUnsafe(ref xs, i), Vector128.LoadUnsafe(ref ys, i), s128);
                }
                sum = Vector128.Sum(s128);
                break;
        }
        for (; i < n; i++)
        {
            sum += Unsafe.Add(ref xs, i) * Unsafe.Add(ref ys, i);
        }
        return sum;
    }
}
