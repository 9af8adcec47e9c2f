// The innermost loop of the blocked matrix product, at 512 bits (AVX-512): a 32 × 12 tile of C kept in registers
// (24 accumulators + 2 A vectors + 1 broadcast = 27 of the 32 zmm registers), updated by one rank-1 product per step p:
//   C[0..32, j] += A_panel[p][0..32] · B_panel[p][j]   for j = 0..11
// The blocked product packs both panels so that each step reads 32 + 12 consecutive floats.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Attention.Kernels;

internal static unsafe class GemmMicroKernel512
{
    /// <summary>Rows of the register tile (a multiple of the vector width).</summary>
    public const int Rows = 32;

    /// <summary>Columns of the register tile.</summary>
    public const int Columns = 12;

    /// <summary>Columns of the narrow tile (<see cref="RunNarrow"/>).</summary>
    public const int NarrowColumns = 4;

    /// <summary>C[32 × 12] += A·B over <paramref name="kc"/> steps p (or = A·B when <paramref name="accumulate"/> is false).</summary>
    /// <remarks>Step p reads A[0..32, p] at <c>a + p·lda</c> (contiguous) and B[p, 0..12] at <c>b + p·ldb</c> (contiguous).
    /// Packed panels have lda = 32 and ldb = 12; fused attention passes its blocks in place with their own strides.
    /// C is column-major with column stride <paramref name="ldc"/>.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(int kc, float* a, int lda, float* b, int ldb, float* c, int ldc, bool accumulate)
    {
        Vector512<float> c00, c10, c01, c11, c02, c12, c03, c13, c04, c14, c05, c15, c06, c16, c07, c17, c08, c18, c09, c19, c0A, c1A, c0B, c1B;
        c00 = c10 = c01 = c11 = c02 = c12 = c03 = c13 = c04 = c14 = c05 = c15 = c06 = c16 = c07 = c17 = c08 = c18 = c09 = c19 = c0A = c1A = c0B = c1B = Vector512<float>.Zero;
        for (var p = 0; p < kc; p++)
        {
            var a0 = Vector512.Load(a + 0);
            var a1 = Vector512.Load(a + 16);
            var b0 = Vector512.Create(b[0]);
            c00 = Vector512.FusedMultiplyAdd(a0, b0, c00);
            c10 = Vector512.FusedMultiplyAdd(a1, b0, c10);
            var b1 = Vector512.Create(b[1]);
            c01 = Vector512.FusedMultiplyAdd(a0, b1, c01);
            c11 = Vector512.FusedMultiplyAdd(a1, b1, c11);
            var b2 = Vector512.Create(b[2]);
            c02 = Vector512.FusedMultiplyAdd(a0, b2, c02);
            c12 = Vector512.FusedMultiplyAdd(a1, b2, c12);
            var b3 = Vector512.Create(b[3]);
            c03 = Vector512.FusedMultiplyAdd(a0, b3, c03);
            c13 = Vector512.FusedMultiplyAdd(a1, b3, c13);
            var b4 = Vector512.Create(b[4]);
            c04 = Vector512.FusedMultiplyAdd(a0, b4, c04);
            c14 = Vector512.FusedMultiplyAdd(a1, b4, c14);
            var b5 = Vector512.Create(b[5]);
            c05 = Vector512.FusedMultiplyAdd(a0, b5, c05);
            c15 = Vector512.FusedMultiplyAdd(a1, b5, c15);
            var b6 = Vector512.Create(b[6]);
            c06 = Vector512.FusedMultiplyAdd(a0, b6, c06);
            c16 = Vector512.FusedMultiplyAdd(a1, b6, c16);
            var b7 = Vector512.Create(b[7]);
            c07 = Vector512.FusedMultiplyAdd(a0, b7, c07);
            c17 = Vector512.FusedMultiplyAdd(a1, b7, c17);
            var b8 = Vector512.Create(b[8]);
            c08 = Vector512.FusedMultiplyAdd(a0, b8, c08);
            c18 = Vector512.FusedMultiplyAdd(a1, b8, c18);
            var b9 = Vector512.Create(b[9]);
            c09 = Vector512.FusedMultiplyAdd(a0, b9, c09);
            c19 = Vector512.FusedMultiplyAdd(a1, b9, c19);
            var bA = Vector512.Create(b[10]);
            c0A = Vector512.FusedMultiplyAdd(a0, bA, c0A);
            c1A = Vector512.FusedMultiplyAdd(a1, bA, c1A);
            var bB = Vector512.Create(b[11]);
            c0B = Vector512.FusedMultiplyAdd(a0, bB, c0B);
            c1B = Vector512.FusedMultiplyAdd(a1, bB, c1B);
            a += lda;
            b += ldb;
        }
        Put(c + 0, c00, accumulate);
        Put(c + 16, c10, accumulate);
        Put(c + 1 * ldc + 0, c01, accumulate);
        Put(c + 1 * ldc + 16, c11, accumulate);
        Put(c + 2 * ldc + 0, c02, accumulate);
        Put(c + 2 * ldc + 16, c12, accumulate);
        Put(c + 3 * ldc + 0, c03, accumulate);
        Put(c + 3 * ldc + 16, c13, accumulate);
        Put(c + 4 * ldc + 0, c04, accumulate);
        Put(c + 4 * ldc + 16, c14, accumulate);
        Put(c + 5 * ldc + 0, c05, accumulate);
        Put(c + 5 * ldc + 16, c15, accumulate);
        Put(c + 6 * ldc + 0, c06, accumulate);
        Put(c + 6 * ldc + 16, c16, accumulate);
        Put(c + 7 * ldc + 0, c07, accumulate);
        Put(c + 7 * ldc + 16, c17, accumulate);
        Put(c + 8 * ldc + 0, c08, accumulate);
        Put(c + 8 * ldc + 16, c18, accumulate);
        Put(c + 9 * ldc + 0, c09, accumulate);
        Put(c + 9 * ldc + 16, c19, accumulate);
        Put(c + 10 * ldc + 0, c0A, accumulate);
        Put(c + 10 * ldc + 16, c1A, accumulate);
        Put(c + 11 * ldc + 0, c0B, accumulate);
        Put(c + 11 * ldc + 16, c1B, accumulate);
    }

    /// <summary>Writes one accumulator vector into C: added to what is there, or in place of it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Put(float* c, Vector512<float> value, bool accumulate) =>
        (accumulate ? Vector512.Load(c) + value : value).Store(c);

    /// <summary>The same for a 32 × 4 tile: the last four columns of a product whose width leaves 4 or fewer past the
    /// 12-column tiles (fused attention's d_v = 64 = 5 · 12 + 4), so they are not padded to 12.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RunNarrow(int kc, float* a, int lda, float* b, int ldb, float* c, int ldc, bool accumulate)
    {
        Vector512<float> c00, c10, c01, c11, c02, c12, c03, c13;
        c00 = c10 = c01 = c11 = c02 = c12 = c03 = c13 = Vector512<float>.Zero;
        for (var p = 0; p < kc; p++)
        {
            var a0 = Vector512.Load(a + 0);
            var a1 = Vector512.Load(a + 16);
            var b0 = Vector512.Create(b[0]);
            c00 = Vector512.FusedMultiplyAdd(a0, b0, c00);
            c10 = Vector512.FusedMultiplyAdd(a1, b0, c10);
            var b1 = Vector512.Create(b[1]);
            c01 = Vector512.FusedMultiplyAdd(a0, b1, c01);
            c11 = Vector512.FusedMultiplyAdd(a1, b1, c11);
            var b2 = Vector512.Create(b[2]);
            c02 = Vector512.FusedMultiplyAdd(a0, b2, c02);
            c12 = Vector512.FusedMultiplyAdd(a1, b2, c12);
            var b3 = Vector512.Create(b[3]);
            c03 = Vector512.FusedMultiplyAdd(a0, b3, c03);
            c13 = Vector512.FusedMultiplyAdd(a1, b3, c13);
            a += lda;
            b += ldb;
        }
        Put(c + 0, c00, accumulate);
        Put(c + 16, c10, accumulate);
        Put(c + 1 * ldc + 0, c01, accumulate);
        Put(c + 1 * ldc + 16, c11, accumulate);
        Put(c + 2 * ldc + 0, c02, accumulate);
        Put(c + 2 * ldc + 16, c12, accumulate);
        Put(c + 3 * ldc + 0, c03, accumulate);
        Put(c + 3 * ldc + 16, c13, accumulate);
    }
}
