// The innermost loop of the blocked matrix product, at 128 bits (SSE, AVX without AVX2, Arm's AdvSimd): an 8 × 6 tile
// of C kept in registers (12 accumulators + 2 A vectors + 1 broadcast = 15 of the 16 xmm registers x64 has), updated by
// one rank-1 product per step p:
//   C[0..8, j] += A_panel[p][0..8] · B_panel[p][j]   for j = 0..5
// The blocked product packs both panels so that each step reads 8 + 6 consecutive floats.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Attention.Kernels;

internal static unsafe class GemmMicroKernel128
{
    /// <summary>Rows of the register tile (a multiple of the vector width).</summary>
    public const int Rows = 8;

    /// <summary>Columns of the register tile.</summary>
    public const int Columns = 6;

    /// <summary>C[8 × 6] += A·B over <paramref name="kc"/> steps p (or = A·B when <paramref name="accumulate"/> is false).</summary>
    /// <remarks>Step p reads A[0..8, p] at <c>a + p·lda</c> (contiguous) and B[p, 0..6] at <c>b + p·ldb</c> (contiguous).
    /// Packed panels have lda = 8 and ldb = 6; fused attention passes its blocks in place with their own strides.
    /// C is column-major with column stride <paramref name="ldc"/>.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(int kc, float* a, int lda, float* b, int ldb, float* c, int ldc, bool accumulate)
    {
        Vector128<float> c00, c10, c01, c11, c02, c12, c03, c13, c04, c14, c05, c15;
        c00 = c10 = c01 = c11 = c02 = c12 = c03 = c13 = c04 = c14 = c05 = c15 = Vector128<float>.Zero;
        for (var p = 0; p < kc; p++)
        {
            var a0 = Vector128.Load(a + 0);
            var a1 = Vector128.Load(a + 4);
            var b0 = Vector128.Create(b[0]);
            c00 = Vector128.FusedMultiplyAdd(a0, b0, c00);
            c10 = Vector128.FusedMultiplyAdd(a1, b0, c10);
            var b1 = Vector128.Create(b[1]);
            c01 = Vector128.FusedMultiplyAdd(a0, b1, c01);
            c11 = Vector128.FusedMultiplyAdd(a1, b1, c11);
            var b2 = Vector128.Create(b[2]);
            c02 = Vector128.FusedMultiplyAdd(a0, b2, c02);
            c12 = Vector128.FusedMultiplyAdd(a1, b2, c12);
            var b3 = Vector128.Create(b[3]);
            c03 = Vector128.FusedMultiplyAdd(a0, b3, c03);
            c13 = Vector128.FusedMultiplyAdd(a1, b3, c13);
            var b4 = Vector128.Create(b[4]);
            c04 = Vector128.FusedMultiplyAdd(a0, b4, c04);
            c14 = Vector128.FusedMultiplyAdd(a1, b4, c14);
            var b5 = Vector128.Create(b[5]);
            c05 = Vector128.FusedMultiplyAdd(a0, b5, c05);
            c15 = Vector128.FusedMultiplyAdd(a1, b5, c15);
            a += lda;
            b += ldb;
        }
        Put(c + 0, c00, accumulate);
        Put(c + 4, c10, accumulate);
        Put(c + 1 * ldc + 0, c01, accumulate);
        Put(c + 1 * ldc + 4, c11, accumulate);
        Put(c + 2 * ldc + 0, c02, accumulate);
        Put(c + 2 * ldc + 4, c12, accumulate);
        Put(c + 3 * ldc + 0, c03, accumulate);
        Put(c + 3 * ldc + 4, c13, accumulate);
        Put(c + 4 * ldc + 0, c04, accumulate);
        Put(c + 4 * ldc + 4, c14, accumulate);
        Put(c + 5 * ldc + 0, c05, accumulate);
        Put(c + 5 * ldc + 4, c15, accumulate);
    }

    /// <summary>Writes one accumulator vector into C: added to what is there, or in place of it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Put(float* c, Vector128<float> value, bool accumulate) =>
        (accumulate ? Vector128.Load(c) + value : value).Store(c);
}
