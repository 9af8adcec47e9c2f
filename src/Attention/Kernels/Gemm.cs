// The blocked matrix product (the BLIS/GotoBLAS loop nest), C[m × n] = A[m × k] · B[k × n], on strided operands so that
// one driver serves A·B, A·Bᵀ and Aᵀ·B over MathNet's column-major storage without transposing copies:
//
//   for jc in steps of NC:                 columns of C and B            (B block stays in L2/L3)
//     for pc in steps of KC:               the shared dimension          (one rank-KC update of C)
//       pack B[pc.., jc..] into NR-column panels, step by step
//       for ic in steps of MC:             rows of C and A
//         pack A[ic.., pc..] into MR-row panels (unless its columns are contiguous: then read in place)
//         for jr, ir:                      one MR × NR register tile of C (the micro-kernel)
//
// Packing lays out each panel so the micro-kernel reads consecutive floats, and pads ragged edges with zeros; edge
// tiles go through a small scratch tile. On several cores each thread runs this nest on its own range of C's columns.
// Every C element is summed in the same order (pc blocks ascending, p ascending inside) however the columns are split
// among threads, so the result is bit-identical on any core count.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Attention.Kernels;

internal static unsafe class Gemm
{
    internal const int KC = 256;
    private const int MC = 128;
    private const int NC = 768;

    [ThreadStatic]
    private static float[]? _packedA;

    [ThreadStatic]
    private static float[]? _packedB;

    /// <summary>
    /// C = A·B where A(i, p) = a[i·rowStrideA + p·columnStrideA] and B(p, j) = b[p·rowStrideB + j·columnStrideB];
    /// C is column-major [m × n] with column stride <paramref name="ldc"/> (0: m) and is overwritten; with <paramref name="columnBias"/>
    /// ([n]) it starts at bias[j] down each column j instead of 0, so C = A·B + bias costs no extra pass. At most
    /// <paramref name="maxThreads"/> threads (0: <see cref="Parallelism.Threads"/>). A stride above m lets a product fill a block of
    /// rows of a taller matrix. With <paramref name="packedB"/> (B packed once for this width, shape
    /// and strides) the product reads those panels instead of packing B.
    /// </summary>
    public static void Multiply(ReadOnlySpan<float> a, int rowStrideA, int columnStrideA, ReadOnlySpan<float> b, int rowStrideB, int columnStrideB,
        Span<float> c, int m, int k, int n, SimdWidth width, int maxThreads = 0, ReadOnlySpan<float> columnBias = default, int ldc = 0,
        PackedPanels? packedB = null)
    {
        if (packedB is not null && (packedB.Width != width || packedB.K != k || packedB.N != n))
        {
            throw new ArgumentException($"B was packed as [{packedB.K} × {packedB.N}] for {packedB.Width}, but this product needs [{k} × {n}] for {width}.", nameof(packedB));
        }
        ldc = ldc > 0 ? ldc : m;
        Start(c, m, n, ldc, columnBias);
        if (m == 0 || n == 0 || k == 0)
        {
            return;
        }
        var nr = MicroKernel.Tile(width).Columns;
        var threads = Math.Min(maxThreads > 0 ? maxThreads : Parallelism.Threads, (n + nr - 1) / nr);
        fixed (float* pa = a, pb = b, pc = c)
        {
            var (aa, bb, cc) = ((nint)pa, (nint)pb, (nint)pc);
            if (threads > 1 && (long)m * n * k >= Parallelism.ParallelThreshold)
            {
                // Each thread takes a contiguous range of C's columns (whole NR panels) and runs the serial loop nest on it:
                // one fork and one join per product, and every element still summed in the same order.
                var panels = (n + nr - 1) / nr;
                Parallelism.For(threads, threads, t =>
                {
                    var (first, last) = (panels * t / threads * nr, Math.Min(n, panels * (t + 1) / threads * nr));
                    Columns((float*)aa, rowStrideA, columnStrideA, (float*)bb, rowStrideB, columnStrideB, (float*)cc, ldc, m, k, first, last, width, packedB);
                });
            }
            else
            {
                Columns(pa, rowStrideA, columnStrideA, pb, rowStrideB, columnStrideB, pc, ldc, m, k, 0, n, width, packedB);
            }
        }
    }

    /// <summary>C's starting value: zero, or bias[j] down each column j (a Linear layer's bias, added for free).</summary>
    internal static void Start(Span<float> c, int m, int n, int ldc, ReadOnlySpan<float> columnBias)
    {
        if (columnBias.IsEmpty && ldc == m)
        {
            c[..(m * n)].Clear();
            return;
        }
        for (var j = 0; j < n; j++)
        {
            c.Slice(j * ldc, m).Fill(columnBias.IsEmpty ? 0.0f : columnBias[j]);
        }
    }

    /// <summary>The serial loop nest for columns <paramref name="j0"/> … <paramref name="j1"/> − 1 of C.</summary>
    private static void Columns(float* a, int rsa, int csa, float* b, int rsb, int csb, float* c, int ldc, int m, int k, int j0, int j1, SimdWidth width,
        PackedPanels? packed)
    {
        var (mr, nr) = MicroKernel.Tile(width);
        for (var jc = j0; jc < j1; jc += NC)
        {
            var nc = Math.Min(NC, j1 - jc);
            for (var p0 = 0; p0 < k; p0 += KC)
            {
                var kc = Math.Min(KC, k - p0);
                var panels = packed?.Data ?? Scratch.Rent(ref _packedB, RoundUp(nc, nr) * kc);
                fixed (float* start = panels)
                {
                    var bp = start;
                    if (packed is null)
                    {
                        PackB(b, rsb, csb, p0, jc, kc, nc, nr, bp);
                    }
                    else
                    {
                        bp += packed.Offset(p0, jc); // packed once, earlier
                    }
                    for (var ic = 0; ic < m; ic += MC)
                    {
                        Block(a, rsa, csa, bp, c, ldc, m, ic, p0, jc, kc, nc, mr, nr, width);
                    }
                }
            }
        }
    }

    /// <summary>Rows ic … ic+MC of C += A[ic.., p0..] · packed B, one register tile at a time.</summary>
    /// <remarks>When A's columns are contiguous (rowStrideA = 1: activations in MathNet's column-major storage) the
    /// micro-kernel reads each full MR-row panel of A in place, a column stride apart, and only a ragged last panel is
    /// packed (with zero padding). In a whole encoder layer that saved 0.4 ms of 22 on one core; a product alone does not
    /// change measurably.</remarks>
    private static void Block(float* a, int rsa, int csa, float* packedB, float* c, int ldc, int m, int ic, int p0, int jc, int kc, int nc, int mr, int nr, SimdWidth width)
    {
        var mc = Math.Min(MC, m - ic);
        var inPlace = rsa == 1 ? mc / mr * mr : 0; // rows of this block whose panels are read in place
        var packedA = Scratch.Rent(ref _packedA, RoundUp(mc, mr) * kc);
        var edge = stackalloc float[mr * nr];
        fixed (float* ap = packedA)
        {
            PackA(a, rsa, csa, ic + inPlace, p0, mc - inPlace, kc, mr, ap + inPlace * kc);
            for (var jr = 0; jr < nc; jr += nr)
            {
                var cols = Math.Min(nr, nc - jr);
                for (var ir = 0; ir < mc; ir += mr)
                {
                    var rows = Math.Min(mr, mc - ir);
                    var aPanel = ir < inPlace ? a + (ic + ir) + (long)p0 * csa : ap + ir * kc;
                    var lda = ir < inPlace ? csa : mr;
                    var bPanel = packedB + jr * kc;
                    var cTile = c + (ic + ir) + (long)(jc + jr) * ldc;
                    if (rows == mr && cols == nr)
                    {
                        MicroKernel.Run(width, kc, aPanel, lda, bPanel, nr, cTile, ldc, accumulate: true);
                    }
                    else
                    {
                        // A ragged tile: compute the full tile into scratch, then add the part that exists.
                        MicroKernel.Run(width, kc, aPanel, lda, bPanel, nr, edge, mr, accumulate: false);
                        for (var j = 0; j < cols; j++)
                        {
                            for (var i = 0; i < rows; i++)
                            {
                                cTile[i + (long)j * ldc] += edge[i + j * mr];
                            }
                        }
                    }
                }
            }
        }
    }

    private static void PackA(float* a, int rsa, int csa, int i0, int p0, int mc, int kc, int mr, float* packed)
    {
        for (var ir = 0; ir < mc; ir += mr)
        {
            var rows = Math.Min(mr, mc - ir);
            var panel = packed + ir * kc;
            for (var p = 0; p < kc; p++)
            {
                var source = a + (long)(i0 + ir) * rsa + (long)(p0 + p) * csa;
                var target = panel + p * mr;
                if (rsa == 1)
                {
                    Copy(source, target, rows); // a column of A is contiguous
                }
                else
                {
                    for (var i = 0; i < rows; i++)
                    {
                        target[i] = source[(long)i * rsa];
                    }
                }
                new Span<float>(target + rows, mr - rows).Clear();
            }
        }
    }

    /// <summary>B[p0 .. p0+kc, j0 .. j0+nc] as NR-column panels: panel r holds, for each p, columns r·NR … r·NR+NR−1 (zero past nc).</summary>
    internal static void PackB(float* b, int rsb, int csb, int p0, int j0, int kc, int nc, int nr, float* packed)
    {
        for (var jr = 0; jr < nc; jr += nr)
        {
            var cols = Math.Min(nr, nc - jr);
            var panel = packed + jr * kc;
            for (var p = 0; p < kc; p++)
            {
                var source = b + (long)(p0 + p) * rsb + (long)(j0 + jr) * csb;
                var target = panel + p * nr;
                if (csb == 1)
                {
                    Copy(source, target, cols); // a row of B is contiguous (B = Wᵀ for a Linear weight W)
                }
                else
                {
                    for (var j = 0; j < cols; j++)
                    {
                        target[j] = source[(long)j * csb];
                    }
                }
                for (var j = cols; j < nr; j++)
                {
                    target[j] = 0.0f;
                }
            }
        }
    }

    /// <summary>Copies a few contiguous floats inline: a call to memmove per 12 or 32 floats cost more than the copy.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Copy(float* source, float* target, int count)
    {
        var i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i + Vector256<float>.Count <= count; i += Vector256<float>.Count)
            {
                Vector256.Load(source + i).Store(target + i);
            }
        }
        for (; i + Vector128<float>.Count <= count; i += Vector128<float>.Count)
        {
            Vector128.Load(source + i).Store(target + i);
        }
        for (; i < count; i++)
        {
            target[i] = source[i];
        }
    }

    internal static int RoundUp(int value, int multiple) => (value + multiple - 1) / multiple * multiple;
}
