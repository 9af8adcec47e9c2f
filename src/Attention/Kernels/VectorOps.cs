// The small loops the kernels are built from, at each vector width:
//   Max, Scale, ExpShiftedSum: the steps of a softmax
//   Add, Multiply, Relu, Normalize: the residual sum, fused attention's final division, the activation
//   and the steps of LayerNorm
// Widest vector first; the ragged tail is finished by a scalar loop.
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Attention.Kernels;

internal static class VectorOps
{
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

    /// <summary>destination = x + y, element by element (destination may be x or y).</summary>
    public static void Add(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> destination, SimdWidth width) =>
        Binary<AddOperator>(x, y, destination, width);

    /// <summary>destination = x · y, element by element (destination may be x or y).</summary>
    public static void Multiply(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> destination, SimdWidth width) =>
        Binary<MultiplyOperator>(x, y, destination, width);

    /// <summary>destination[i] = op(x[i], y[i]); the JIT compiles one copy per operator struct, so op is inlined.</summary>
    private static void Binary<TOperator>(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> destination, SimdWidth width)
        where TOperator : IBinaryOperator
    {
        ref var xs = ref MemoryMarshal.GetReference(x);
        ref var ys = ref MemoryMarshal.GetReference(y);
        ref var ds = ref MemoryMarshal.GetReference(destination);
        nuint n = (nuint)x.Length;
        nuint i = 0;
        if (width == SimdWidth.Vector512)
        {
            for (; i + 16 <= n; i += 16)
            {
                TOperator.Invoke(Vector512.LoadUnsafe(ref xs, i), Vector512.LoadUnsafe(ref ys, i)).StoreUnsafe(ref ds, i);
            }
        }
        if (width >= SimdWidth.Vector256)
        {
            for (; i + 8 <= n; i += 8)
            {
                TOperator.Invoke(Vector256.LoadUnsafe(ref xs, i), Vector256.LoadUnsafe(ref ys, i)).StoreUnsafe(ref ds, i);
            }
        }
        if (width >= SimdWidth.Vector128)
        {
            for (; i + 4 <= n; i += 4)
            {
                TOperator.Invoke(Vector128.LoadUnsafe(ref xs, i), Vector128.LoadUnsafe(ref ys, i)).StoreUnsafe(ref ds, i);
            }
        }
        for (; i < n; i++)
        {
            Unsafe.Add(ref ds, i) = TOperator.Invoke(Unsafe.Add(ref xs, i), Unsafe.Add(ref ys, i));
        }
    }

    /// <summary>An element-wise operation at every width, as TensorPrimitives spells its operators.</summary>
    private interface IBinaryOperator
    {
        static abstract Vector512<float> Invoke(Vector512<float> x, Vector512<float> y);

        static abstract Vector256<float> Invoke(Vector256<float> x, Vector256<float> y);

        static abstract Vector128<float> Invoke(Vector128<float> x, Vector128<float> y);

        static abstract float Invoke(float x, float y);
    }

    private readonly struct AddOperator : IBinaryOperator
    {
        public static Vector512<float> Invoke(Vector512<float> x, Vector512<float> y) => x + y;

        public static Vector256<float> Invoke(Vector256<float> x, Vector256<float> y) => x + y;

        public static Vector128<float> Invoke(Vector128<float> x, Vector128<float> y) => x + y;

        public static float Invoke(float x, float y) => x + y;
    }

    private readonly struct MultiplyOperator : IBinaryOperator
    {
        public static Vector512<float> Invoke(Vector512<float> x, Vector512<float> y) => x * y;

        public static Vector256<float> Invoke(Vector256<float> x, Vector256<float> y) => x * y;

        public static Vector128<float> Invoke(Vector128<float> x, Vector128<float> y) => x * y;

        public static float Invoke(float x, float y) => x * y;
    }

    /// <summary>x = max(x, 0) in place (ReLU); NaN stays NaN, as in PyTorch.</summary>
    public static void Relu(Span<float> x, SimdWidth width)
    {
        ref var xs = ref MemoryMarshal.GetReference(x);
        nuint n = (nuint)x.Length;
        nuint i = 0;
        if (width == SimdWidth.Vector512)
        {
            for (; i + 16 <= n; i += 16)
            {
                Vector512.Max(Vector512.LoadUnsafe(ref xs, i), Vector512<float>.Zero).StoreUnsafe(ref xs, i);
            }
        }
        if (width >= SimdWidth.Vector256)
        {
            for (; i + 8 <= n; i += 8)
            {
                Vector256.Max(Vector256.LoadUnsafe(ref xs, i), Vector256<float>.Zero).StoreUnsafe(ref xs, i);
            }
        }
        if (width >= SimdWidth.Vector128)
        {
            for (; i + 4 <= n; i += 4)
            {
                Vector128.Max(Vector128.LoadUnsafe(ref xs, i), Vector128<float>.Zero).StoreUnsafe(ref xs, i);
            }
        }
        for (; i < n; i++)
        {
            Unsafe.Add(ref xs, i) = MathF.Max(Unsafe.Add(ref xs, i), 0.0f);
        }
    }

    /// <summary>destination = (x − mean)·inverseStd·gain + bias, element by element; gain and bias are scalars (one feature of LayerNorm).</summary>
    public static void Normalize(ReadOnlySpan<float> x, ReadOnlySpan<float> mean, ReadOnlySpan<float> inverseStd, float gain, float bias, Span<float> destination, SimdWidth width)
    {
        ref var xs = ref MemoryMarshal.GetReference(x);
        ref var ms = ref MemoryMarshal.GetReference(mean);
        ref var rs = ref MemoryMarshal.GetReference(inverseStd);
        ref var ds = ref MemoryMarshal.GetReference(destination);
        nuint n = (nuint)x.Length;
        nuint i = 0;
        if (width == SimdWidth.Vector512)
        {
            for (; i + 16 <= n; i += 16)
            {
                var centered = Vector512.LoadUnsafe(ref xs, i) - Vector512.LoadUnsafe(ref ms, i);
                Vector512.FusedMultiplyAdd(centered * Vector512.LoadUnsafe(ref rs, i), Vector512.Create(gain), Vector512.Create(bias)).StoreUnsafe(ref ds, i);
            }
        }
        if (width >= SimdWidth.Vector256)
        {
            for (; i + 8 <= n; i += 8)
            {
                var centered = Vector256.LoadUnsafe(ref xs, i) - Vector256.LoadUnsafe(ref ms, i);
                Vector256.FusedMultiplyAdd(centered * Vector256.LoadUnsafe(ref rs, i), Vector256.Create(gain), Vector256.Create(bias)).StoreUnsafe(ref ds, i);
            }
        }
        if (width >= SimdWidth.Vector128)
        {
            for (; i + 4 <= n; i += 4)
            {
                var centered = Vector128.LoadUnsafe(ref xs, i) - Vector128.LoadUnsafe(ref ms, i);
                Vector128.FusedMultiplyAdd(centered * Vector128.LoadUnsafe(ref rs, i), Vector128.Create(gain), Vector128.Create(bias)).StoreUnsafe(ref ds, i);
            }
        }
        for (; i < n; i++)
        {
            var centered = Unsafe.Add(ref xs, i) - Unsafe.Add(ref ms, i);
            Unsafe.Add(ref ds, i) = MathF.FusedMultiplyAdd(centered * Unsafe.Add(ref rs, i), gain, bias);
        }
    }
}
