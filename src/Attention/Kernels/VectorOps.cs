// The small loops the kernels are built from, at each vector width:
//   MultiplyAdd: y += α·x      (one column of A·B gains α times one column of A)
//   Dot:         Σ x[i]·y[i]   (one entry of Aᵀ·B)
//   Max, Scale, ExpShiftedSum, ScaleAdd: the steps of a softmax, and of the online softmax of fused attention
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

    /// <summary>max of <paramref name="x"/> (at least one element). A NaN may be lost here; callers that sum exp(x − max) still end up with NaN.</summary>
    public static float Max(ReadOnlySpan<float> x, SimdWidth width)
    {
        ref var xs = ref MemoryMarshal.GetReference(x);
        nuint n = (nuint)x.Length;
        nuint i = 0;
        var max = float.NegativeInfinity;
        if (width == SimdWidth.Vector512 && n >= 16)
        {
            var m512 = Vector512.Create(float.NegativeInfinity);
            for (; i + 16 <= n; i += 16)
            {
                m512 = Vector512.MaxNative(m512, Vector512.LoadUnsafe(ref xs, i));
            }
            max = Across(Vector256.MaxNative(m512.GetLower(), m512.GetUpper()));
        }
        else if (width >= SimdWidth.Vector256 && n >= 8)
        {
            var m256 = Vector256.Create(float.NegativeInfinity);
            for (; i + 8 <= n; i += 8)
            {
                m256 = Vector256.MaxNative(m256, Vector256.LoadUnsafe(ref xs, i));
            }
            max = Across(m256);
        }
        else if (width >= SimdWidth.Vector128 && n >= 4)
        {
            var m128 = Vector128.Create(float.NegativeInfinity);
            for (; i + 4 <= n; i += 4)
            {
                m128 = Vector128.MaxNative(m128, Vector128.LoadUnsafe(ref xs, i));
            }
            max = MathF.Max(MathF.Max(m128[0], m128[1]), MathF.Max(m128[2], m128[3]));
        }
        for (; i < n; i++)
        {
            max = MathF.Max(max, Unsafe.Add(ref xs, i));
        }
        return max;
    }

    private static float Across(Vector256<float> v)
    {
        var m = Vector128.MaxNative(v.GetLower(), v.GetUpper());
        return MathF.Max(MathF.Max(m[0], m[1]), MathF.Max(m[2], m[3]));
    }

    /// <summary>x *= factor, element by element.</summary>
    public static void Scale(Span<float> x, float factor, SimdWidth width)
    {
        ref var xs = ref MemoryMarshal.GetReference(x);
        nuint n = (nuint)x.Length;
        nuint i = 0;
        if (width == SimdWidth.Vector512)
        {
            for (; i + 16 <= n; i += 16)
            {
                (Vector512.LoadUnsafe(ref xs, i) * factor).StoreUnsafe(ref xs, i);
            }
        }
        if (width >= SimdWidth.Vector256)
        {
            for (; i + 8 <= n; i += 8)
            {
                (Vector256.LoadUnsafe(ref xs, i) * factor).StoreUnsafe(ref xs, i);
            }
        }
        if (width >= SimdWidth.Vector128)
        {
            for (; i + 4 <= n; i += 4)
            {
                (Vector128.LoadUnsafe(ref xs, i) * factor).StoreUnsafe(ref xs, i);
            }
        }
        for (; i < n; i++)
        {
            Unsafe.Add(ref xs, i) *= factor;
        }
    }

    /// <summary>x = exp(x − shift) for x ≤ shift (or NaN), in place; returns Σ of the results.</summary>
    public static float ExpShiftedSum(Span<float> x, float shift, SimdWidth width)
    {
        ref var xs = ref MemoryMarshal.GetReference(x);
        nuint n = (nuint)x.Length;
        nuint i = 0;
        var sum = 0.0f;
        if (width == SimdWidth.Vector512)
        {
            var s512 = Vector512<float>.Zero;
            for (; i + 16 <= n; i += 16)
            {
                var e = VectorExp.ExpNonPositive(Vector512.LoadUnsafe(ref xs, i) - Vector512.Create(shift));
                e.StoreUnsafe(ref xs, i);
                s512 += e;
            }
            sum += Vector512.Sum(s512);
        }
        if (width >= SimdWidth.Vector256)
        {
            var s256 = Vector256<float>.Zero;
            for (; i + 8 <= n; i += 8)
            {
                var e = VectorExp.ExpNonPositive(Vector256.LoadUnsafe(ref xs, i) - Vector256.Create(shift));
                e.StoreUnsafe(ref xs, i);
                s256 += e;
            }
            sum += Vector256.Sum(s256);
        }
        if (width >= SimdWidth.Vector128)
        {
            var s128 = Vector128<float>.Zero;
            for (; i + 4 <= n; i += 4)
            {
                var e = VectorExp.ExpNonPositive(Vector128.LoadUnsafe(ref xs, i) - Vector128.Create(shift));
                e.StoreUnsafe(ref xs, i);
                s128 += e;
            }
            sum += Vector128.Sum(s128);
        }
        for (; i < n; i++)
        {
            var e = MathF.Exp(Unsafe.Add(ref xs, i) - shift);
            Unsafe.Add(ref xs, i) = e;
            sum += e;
        }
        return sum;
    }

    /// <summary>acc = acc·factor + addend, element by element (all the same length).</summary>
    public static void ScaleAdd(Span<float> acc, ReadOnlySpan<float> factor, ReadOnlySpan<float> addend, SimdWidth width)
    {
        ref var a = ref MemoryMarshal.GetReference(acc);
        ref var f = ref MemoryMarshal.GetReference(factor);
        ref var b = ref MemoryMarshal.GetReference(addend);
        nuint n = (nuint)acc.Length;
        nuint i = 0;
        if (width == SimdWidth.Vector512)
        {
            for (; i + 16 <= n; i += 16)
            {
                Vector512.MultiplyAddEstimate(Vector512.LoadUnsafe(ref a, i), Vector512.LoadUnsafe(ref f, i), Vector512.LoadUnsafe(ref b, i)).StoreUnsafe(ref a, i);
            }
        }
        if (width >= SimdWidth.Vector256)
        {
            for (; i + 8 <= n; i += 8)
            {
                Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref a, i), Vector256.LoadUnsafe(ref f, i), Vector256.LoadUnsafe(ref b, i)).StoreUnsafe(ref a, i);
            }
        }
        for (; i < n; i++)
        {
            Unsafe.Add(ref a, i) = Unsafe.Add(ref a, i) * Unsafe.Add(ref f, i) + Unsafe.Add(ref b, i);
        }
    }
}
