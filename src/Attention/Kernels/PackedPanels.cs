// A whole B operand packed once into the product's panel layout, so later products skip packing it: a weight that does
// not change between calls (see FrozenWeights).
//
// Gemm packs B one block at a time, rows p0 … p0+KC−1 by columns jc … jc+NC−1, as NR-column panels. Here every block
// of KC rows holds the panels of all n columns, in the same layout; since thread splits and NC steps both start on
// panel boundaries, the block Gemm would have packed for (p0, jc) is a contiguous run of these panels.
using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Attention.Kernels;

internal sealed unsafe class PackedPanels
{
    private PackedPanels(SimdWidth width, int k, int n, float[] data) => (Width, K, N, Data) = (width, k, n, data);

    /// <summary>The panels: for each block of KC rows, all n columns in NR-column panels (zero-padded to a whole panel).</summary>
    public float[] Data { get; }

    /// <summary>The micro-kernel these panels are laid out for (it fixes NR).</summary>
    public SimdWidth Width { get; }

    /// <summary>Rows of B (the shared dimension of the product).</summary>
    public int K { get; }

    /// <summary>Columns of B (columns of C).</summary>
    public int N { get; }

    /// <summary>Packs B[k × n], B(p, j) = b[p·rowStride + j·columnStride], for the micro-kernel of <paramref name="width"/>,
    /// into <paramref name="reuse"/> when it is an array of the right length (memory touched before costs less than fresh pages).</summary>
    public static PackedPanels Pack(ReadOnlySpan<float> b, int rowStride, int columnStride, int k, int n, SimdWidth width, float[]? reuse = null)
    {
        var nr = MicroKernel.Tile(width).Columns;
        var paddedN = Gemm.RoundUp(n, nr);
        var length = checked(paddedN * k);
        // An ordinary (large-object) array. On the pinned object heap, beside the layers' results, it made the collector
        // grow that heap's budget: a Stopwatch loop collected less often, but BenchmarkDotNet (which collects between
        // iterations) then never collected within one, and every 1 MB result landed on fresh pages (22.7 against 21.3 ms).
        var data = reuse?.Length == length ? reuse : GC.AllocateUninitializedArray<float>(length);
        fixed (float* source = b, target = data)
        {
            for (var p0 = 0; p0 < k; p0 += Gemm.KC)
            {
                var kc = Math.Min(Gemm.KC, k - p0);
                Gemm.PackB(source, rowStride, columnStride, p0, 0, kc, n, nr, target + (long)p0 * paddedN);
            }
        }
        return new PackedPanels(width, k, n, data);
    }

    /// <summary>
    /// Whether these panels hold B[k × n] exactly as <see cref="Pack"/> would pack it now, bit for bit: the check that lets a
    /// later scope reuse a weight's panels without rewriting them, and never serve them once the weight has changed.
    /// Reads B and the panels once and writes nothing. Only B with contiguous rows (columnStride 1: a Linear weight's
    /// Wᵀ) is checked; any other B answers false, and is packed afresh.
    /// </summary>
    public bool Holds(ReadOnlySpan<float> b, int rowStride, int columnStride, int k, int n, SimdWidth width)
    {
        if (width != Width || k != K || n != N || columnStride != 1)
        {
            return false;
        }
        var nr = MicroKernel.Tile(width).Columns;
        var paddedN = Gemm.RoundUp(n, nr);
        var panels = MemoryMarshal.Cast<float, int>(Data.AsSpan());
        var source = MemoryMarshal.Cast<float, int>(b);   // compared as bits: −0 and +0, and each NaN, are told apart
        for (var p0 = 0; p0 < k; p0 += Gemm.KC)
        {
            var kc = Math.Min(Gemm.KC, k - p0);
            for (var jr = 0; jr < n; jr += nr)
            {
                var cols = Math.Min(nr, n - jr);
                var panel = (long)p0 * paddedN + (long)jr * kc;
                for (var p = 0; p < kc; p++)
                {
                    var row = source.Slice((p0 + p) * rowStride + jr, cols);
                    if (!row.SequenceEqual(panels.Slice((int)(panel + (long)p * nr), cols)))
                    {
                        return false;
                    }
                }
            }
        }
        return true;
    }

    /// <summary>Where in <see cref="Data"/> the block of rows <paramref name="p0"/> … (KC of them, or fewer at the end)
    /// starts at column <paramref name="jc"/>, laid out as <c>Gemm.PackB</c> would have packed it. <paramref name="jc"/> starts a panel.</summary>
    public long Offset(int p0, int jc)
    {
        var nr = MicroKernel.Tile(Width).Columns;
        Debug.Assert(p0 % Gemm.KC == 0 && jc % nr == 0 && p0 < K && jc < N);
        var kc = Math.Min(Gemm.KC, K - p0);
        return (long)p0 * Gemm.RoundUp(N, nr) + (long)jc * kc; // full blocks before p0, then jc/NR panels of kc·NR floats
    }
}
