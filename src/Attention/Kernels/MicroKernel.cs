// Which register-tile micro-kernel serves a vector width. The blocked product (Gemm) and fused attention both run
// their inner loops on it: C[rows × columns] += A·B over kc steps, A and B read through strides.
namespace Attention.Kernels;

internal static unsafe class MicroKernel
{
    /// <summary>The tile of C the width's micro-kernel keeps in registers: 32 × 12 (512 bits), 16 × 6 (256), 8 × 6 (128), 4 × 4 (scalar twin).</summary>
    public static (int Rows, int Columns) Tile(SimdWidth width) => width switch
    {
        SimdWidth.Vector512 => (GemmMicroKernel512.Rows, GemmMicroKernel512.Columns),
        SimdWidth.Vector256 => (GemmMicroKernel256.Rows, GemmMicroKernel256.Columns),
        SimdWidth.Vector128 => (GemmMicroKernel128.Rows, GemmMicroKernel128.Columns),
        _ => (GemmMicroKernelScalar.Rows, GemmMicroKernelScalar.Columns),
    };

    /// <summary>C[tile] += A·B (or = when <paramref name="accumulate"/> is false) over <paramref name="kc"/> steps; see <see cref="GemmMicroKernel512.Run"/>.</summary>
    public static void Run(SimdWidth width, int kc, float* a, int lda, float* b, int ldb, float* c, int ldc, bool accumulate)
    {
        switch (width)
        {
            case SimdWidth.Vector512:
                GemmMicroKernel512.Run(kc, a, lda, b, ldb, c, ldc, accumulate);
                break;
            case SimdWidth.Vector256:
                GemmMicroKernel256.Run(kc, a, lda, b, ldb, c, ldc, accumulate);
                break;
            case SimdWidth.Vector128:
                GemmMicroKernel128.Run(kc, a, lda, b, ldb, c, ldc, accumulate);
                break;
            default:
                GemmMicroKernelScalar.Run(kc, a, lda, b, ldb, c, ldc, accumulate);
                break;
        }
    }
}
