// The micro-kernel's scalar twin: the same contract as GemmMicroKernel512/256 (a register tile of C updated by one
// rank-1 product per step p) written with plain loops, for CPUs or test runs without 256-bit vectors.
namespace Attention.Kernels;

internal static unsafe class GemmMicroKernelScalar
{
    /// <summary>Rows of the tile.</summary>
    public const int Rows = 4;

    /// <summary>Columns of the tile.</summary>
    public const int Columns = 4;

    /// <summary>C[4 × 4] += A·B over <paramref name="kc"/> steps p (or = A·B when <paramref name="accumulate"/> is false).</summary>
    /// <remarks>Step p reads A[0..4, p] at <c>a + p·lda</c> and B[p, 0..4] at <c>b + p·ldb</c>. C is column-major with column stride <paramref name="ldc"/>.</remarks>
    public static void Run(int kc, float* a, int lda, float* b, int ldb, float* c, int ldc, bool accumulate)
    {
        var tile = stackalloc float[Rows * Columns];
        new Span<float>(tile, Rows * Columns).Clear();
        for (var p = 0; p < kc; p++)
        {
            for (var j = 0; j < Columns; j++)
            {
                var bj = b[j];
                for (var i = 0; i < Rows; i++)
                {
                    tile[i + j * Rows] = MathF.FusedMultiplyAdd(a[i], bj, tile[i + j * Rows]);
                }
            }
            a += lda;
            b += ldb;
        }
        for (var j = 0; j < Columns; j++)
        {
            for (var i = 0; i < Rows; i++)
            {
                c[i + (long)j * ldc] = accumulate ? c[i + (long)j * ldc] + tile[i + j * Rows] : tile[i + j * Rows];
            }
        }
    }
}
