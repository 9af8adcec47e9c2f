// The float32 Cephes polynomials of avx_mathfun.h (log256_ps, sincos256_ps), one lane at a time.
// PyTorch's avx2 normal_ uses them; every step below rounds to float32 exactly as the vector code does,
// and every multiply-add that the compiler fuses there is a MathF.FusedMultiplyAdd here.
namespace Attention.Randomness;

internal static class CephesFloat
{
    private const float SqrtHalf = 0.707106781186547524f;

    /// <summary>Natural logarithm of x &gt; 0 as avx_mathfun's log256_ps computes it.</summary>
    public static float Log(float x)
    {
        x = MathF.Max(x, BitConverter.Int32BitsToSingle(0x0080_0000)); // smallest normal, 2^-126
        var bits = BitConverter.SingleToInt32Bits(x);
        var e = (float)((int)(unchecked((uint)bits) >> 23) - 127) + 1.0f;
        var m = BitConverter.Int32BitsToSingle((bits & ~0x7F80_0000) | 0x3F00_0000); // mantissa in [0.5, 1)

        float t = 0.0f;
        if (m < SqrtHalf)
        {
            e -= 1.0f;
            t = m;
        }
        x = (m - 1.0f) + t;

        var z = x * x;
        var y = 7.0376836292E-2f;
        y = MathF.FusedMultiplyAdd(y, x, -1.1514610310E-1f);
        y = MathF.FusedMultiplyAdd(y, x, 1.1676998740E-1f);
        y = MathF.FusedMultiplyAdd(y, x, -1.2420140846E-1f);
        y = MathF.FusedMultiplyAdd(y, x, 1.4249322787E-1f);
        y = MathF.FusedMultiplyAdd(y, x, -1.6668057665E-1f);
        y = MathF.FusedMultiplyAdd(y, x, 2.0000714765E-1f);
        y = MathF.FusedMultiplyAdd(y, x, -2.4999993993E-1f);
        y = MathF.FusedMultiplyAdd(y, x, 3.3333331174E-1f);
        y *= x;
        y = MathF.FusedMultiplyAdd(y, z, e * -2.12194440e-4f);
        y -= z * 0.5f;
        x += y;
        return MathF.FusedMultiplyAdd(e, 0.693359375f, x);
    }

    /// <summary>Sine and cosine of x ≥ 0 as avx_mathfun's sincos256_ps computes them.</summary>
    public static (float Sin, float Cos) SinCos(float x)
    {
        var j = (int)(x * 1.27323954473516f); // 4/π, truncated toward zero
        j = (j + 1) & ~1;
        var y = (float)j;

        x = MathF.FusedMultiplyAdd(y, -0.78515625f, x);
        x = MathF.FusedMultiplyAdd(y, -2.4187564849853515625e-4f, x);
        x = MathF.FusedMultiplyAdd(y, -3.77489497744594108e-8f, x);
        var z = x * x;

        var c = 2.443315711809948E-5f;
        c = MathF.FusedMultiplyAdd(c, z, -1.388731625493765E-3f);
        c = MathF.FusedMultiplyAdd(c, z, 4.166664568298827E-2f);
        c *= z;
        c = MathF.FusedMultiplyAdd(c, z, -(z * 0.5f));
        c += 1.0f;

        var s = -1.9515295891E-4f;
        s = MathF.FusedMultiplyAdd(s, z, 8.3321608736E-3f);
        s = MathF.FusedMultiplyAdd(s, z, -1.6666654611E-1f);
        s *= z;
        s = MathF.FusedMultiplyAdd(s, x, x);

        var (sin, cos) = (j & 2) == 0 ? (s, c) : (c, s);
        if ((j & 4) != 0)
        {
            sin = -sin;
        }
        if ((~(j - 2) & 4) != 0)
        {
            cos = -cos;
        }
        return (sin, cos);
    }
}
