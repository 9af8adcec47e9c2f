// A small matrix product on strided operands, for kernels (fused attention) that multiply blocks in place.
namespace Attention.Kernels;

/// <summary>C = A·B on strided operands: the blocked <see cref="Gemm"/> where it applies, else a plain loop.</summary>
internal static class Product
{
    public static void Multiply(ReadOnlySpan<float> a, int rsa, int csa, ReadOnlySpan<float> b, int rsb, int csb, Span<float> c, int m, int k, int n)
    {
        var width = SimdDispatch.Current;
        if (Gemm.Supports(width))
        {
            Gemm.Multiply(a, rsa, csa, b, rsb, csb, c, m, k, n, width, maxThreads: 1);
            return;
        }
        for (var j = 0; j < n; j++)
        {
            for (var i = 0; i < m; i++)
            {
                var sum = 0.0f;
                for (var p = 0; p < k; p++)
                {
                    sum += a[i * rsa + p * csa] * b[p * rsb + j * csb];
                }
                c[i + j * m] = sum;
            }
        }
    }
}
