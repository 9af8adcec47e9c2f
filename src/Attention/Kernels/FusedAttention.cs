// softmax(Q·Kᵀ·scale + mask)·V without ever holding the [n × m] weights: flash attention (Dao et al., 2022) on the CPU.
// Queries go in blocks of BR; for each block the keys and values stream past in blocks of about BC, and every query keeps
// a running maximum m, a running sum ℓ and an unnormalised output row o ("online softmax", see OnlineSoftmax.cs).
// A block's scores hold one query per vector lane (column-major [BR × BC]: column j is key j against every query), so
// the softmax steps are element-wise vector operations and both block products run on the matrix product's register-tile
// micro-kernel, reading their operands in place:
//   once    Kᵀ and V copied into the micro-kernel's B panels (NR keys, or NR value columns, side by side), shared by all blocks
//   pass 1  S = (scale·Q_blk)·K_blkᵀ + mask                  [BR × BC]   A = the scaled query block, B = K's panels
//   pass 2  m' = max(m, max S);  P = exp(S − m');  c = exp(m − m');  ℓ = c·ℓ + Σ P;  o = c·o
//   pass 3  o += P·V_blk                                       [BR × d_v]  A = P, B = V's panels
//   finally o / ℓ  (ℓ = 0 means every key was masked: the row is zero, the library's policy)
// Key blocks wholly after a causal query block are skipped. Memory: O(BR·(BC + d_k + d_v)) scratch per thread and
// O(m·(d_k + d_v)) for the copies of K and V: O(n·d) in all, never O(n·m).
using System.Buffers;
using Attention.Mechanisms;
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Kernels;

/// <summary>Flash-style attention over column-major spans: softmax(Q·Kᵀ·scale + mask)·V for one or several heads, in
/// O(n·d) memory, on every core for large inputs. <see cref="Mechanisms.ScaledDotProductAttention.ComputeFused"/> is the
/// same over matrices.</summary>
/// <remarks>Policy: a query whose keys are all masked gets a zero row; a NaN in a query's scores makes its row NaN and
/// leaves the others unchanged. Spans may be longer than the matrices they hold; the output must not overlap an input.</remarks>
public static unsafe class FusedAttention
{
    private const int BR = 128;    // queries per block: a multiple of every tile's rows
    private const int BC = 256;    // at most this many keys per block (blocks are evened out and rounded to the tile's columns)

    /// <summary>softmax(Q·Kᵀ·scale + mask)·V as a new matrix, one head, never holding the [n × m] weights.</summary>
    /// <param name="queries">Q, [n × d_k].</param>
    /// <param name="keys">K, [m × d_k].</param>
    /// <param name="values">V, [m × d_v].</param>
    /// <param name="mask">Optional mask fitting [n × m].</param>
    /// <param name="scale">The factor on the scores, usually 1/√d_k.</param>
    /// <returns>[n × d_v].</returns>
    /// <exception cref="ArgumentException">The shapes do not fit together; the message names both shapes.</exception>
    public static Matrix<float> Forward(Matrix<float> queries, Matrix<float> keys, Matrix<float> values, AttentionMask? mask, float scale)
    {
        ArgumentNullException.ThrowIfNull(queries);
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(values);
        Shapes.RequireInner(queries, nameof(queries), keys, nameof(keys), queries.ColumnCount, keys.ColumnCount, "Queries and keys need the same width d_k (Q·Kᵀ)");
        Shapes.RequireInner(keys, nameof(keys), values, nameof(values), keys.RowCount, values.RowCount, "Keys and values need one row per key token, the same count m");
        var output = Storage.NewMatrix(queries.RowCount, values.ColumnCount, "The attention output", nameof(values));
        Forward(Storage.ColumnMajor(queries), Storage.ColumnMajor(keys), Storage.ColumnMajor(values), Storage.ColumnMajor(output),
            queries.RowCount, keys.RowCount, queries.ColumnCount, values.ColumnCount, mask, scale);
        return output;
    }

    /// <summary>output[n × d_v] = softmax(q·kᵀ·scale + mask)·v for each head, all column-major.</summary>
    /// <param name="q">[n × heads·d_k] queries; head h owns columns h·d_k … (h+1)·d_k − 1.</param>
    /// <param name="k">[m × heads·d_k] keys.</param>
    /// <param name="v">[m × heads·d_v] values.</param>
    /// <param name="output">[n × heads·d_v], overwritten.</param>
    /// <param name="n">Queries.</param>
    /// <param name="m">Keys.</param>
    /// <param name="dk">Columns of q and k per head.</param>
    /// <param name="dv">Columns of v per head.</param>
    /// <param name="mask">Optional mask fitting [n × m], shared by every head.</param>
    /// <param name="scale">The factor on the scores, usually 1/√d_k.</param>
    /// <param name="heads">Independent heads side by side (multi-head attention); 1 for plain attention.</param>
    /// <exception cref="ArgumentException">A span is shorter than its matrix, the mask does not fit [n × m], or the output overlaps an input.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A size is negative, or <paramref name="heads"/> is below 1.</exception>
    public static void Forward(ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, Span<float> output,
        int n, int m, int dk, int dv, AttentionMask? mask, float scale, int heads = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(heads, 1);
        Shapes.RequireSpan(q.Length, nameof(q), n, (long)heads * dk, "the queries");
        Shapes.RequireSpan(k.Length, nameof(k), m, (long)heads * dk, "the keys");
        Shapes.RequireSpan(v.Length, nameof(v), m, (long)heads * dv, "the values");
        Shapes.RequireSpan(output.Length, nameof(output), n, (long)heads * dv, "the output");
        Shapes.RequireSeparate(output, nameof(output), q, nameof(q));
        Shapes.RequireSeparate(output, nameof(output), k, nameof(k));
        Shapes.RequireSeparate(output, nameof(output), v, nameof(v));
        mask?.RequireFits(n, m, nameof(mask));
        if (n == 0 || dv == 0)
        {
            return;
        }
        var width = SimdDispatch.Current;
        var threads = Parallelism.Threads;
        var parallel = threads > 1 && (long)n * m * (dk + dv) * heads >= 1L << 22;
        fixed (float* pq = q, pk = k, pv = v, po = output)
        {
            if (parallel && heads > 1)
            {
                // One head per task: each thread packs its head's K and V once and runs all its query blocks.
                var (aq, ak, av, ao) = ((nint)pq, (nint)pk, (nint)pv, (nint)po);
                Parallelism.For(heads, threads, h => Head((float*)aq + (long)h * n * dk, (float*)ak + (long)h * m * dk, (float*)av + (long)h * m * dv,
                    (float*)ao + (long)h * n * dv, n, m, dk, dv, mask, scale, width, parallelBlocks: false));
            }
            else
            {
                for (var h = 0; h < heads; h++)
                {
                    Head(pq + (long)h * n * dk, pk + (long)h * m * dk, pv + (long)h * m * dv, po + (long)h * n * dv, n, m, dk, dv, mask, scale, width, parallel);
                }
            }
        }
    }

    private static void Head(float* q, float* k, float* v, float* output, int n, int m, int dk, int dv, AttentionMask? mask, float scale,
        SimdWidth width, bool parallelBlocks)
    {
        var nr = MicroKernel.Tile(width).Columns;
        var (mPad, dvPad) = (RoundUp(m, nr), RoundUp(dv, nr));
        var keyBlocks = Math.Max(1, (m + BC - 1) / BC);
        var bcStep = RoundUp((m + keyBlocks - 1) / keyBlocks, nr);       // 512 keys: two blocks of 264 and 248, not 256 + 256 + ragged
        var shared = ArrayPool<float>.Shared.Rent(dk * mPad + m * dvPad);   // this head's packed K and V, returned below
        try
        {
            fixed (float* kt = shared)
            {
                HeadWithPackedKeys(kt, q, k, v, output, n, m, dk, dv, mPad, dvPad, bcStep, nr, mask, scale, width, parallelBlocks);
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(shared);
        }
    }

    private static void HeadWithPackedKeys(float* kt, float* q, float* k, float* v, float* output, int n, int m, int dk, int dv, int mPad, int dvPad,
        int bcStep, int nr, AttentionMask? mask, float scale, SimdWidth width, bool parallelBlocks)
    {
        var vp = kt + (long)dk * mPad;
        PackKeys(k, m, dk, kt, mPad, nr);
        PackValues(v, m, dv, vp, dvPad, nr);
        var job = new Job
        {
            Q = q, KT = kt, VP = vp, Output = output, N = n, M = m, DK = dk, DV = dv, DVPad = dvPad, BCStep = bcStep,
            Mask = mask, Scale = scale, Width = width,
        };
        var blocks = (n + BR - 1) / BR;
        if (parallelBlocks && blocks > 1)
        {
            Parallelism.For(blocks, Parallelism.Threads, block => QueryBlock(job, block * BR));
        }
        else
        {
            for (var block = 0; block < blocks; block++)
            {
                QueryBlock(job, block * BR);
            }
        }
    }

    /// <summary>Everything a query block needs; pointers into buffers the caller keeps fixed for the whole call.</summary>
    private sealed class Job
    {
        public required float* Q { get; init; }         // [n × d_k], column-major
        public required float* KT { get; init; }        // Kᵀ in NR-key panels: kt[(j − j mod NR)·d_k + p·NR + j mod NR] = K[j, p]
        public required float* VP { get; init; }        // V in NR-column panels: vp[(d − d mod NR)·m + j·NR + d mod NR] = V[j, d]
        public required float* Output { get; init; }    // [n × d_v], column-major
        public required int N { get; init; }
        public required int M { get; init; }
        public required int DK { get; init; }
        public required int DV { get; init; }
        public required int DVPad { get; init; }
        public required int BCStep { get; init; }       // keys per block (the last block may hold fewer)
        public required AttentionMask? Mask { get; init; }
        public required float Scale { get; init; }
        public required SimdWidth Width { get; init; }
    }

    private static void QueryBlock(Job job, int i0)
    {
        var (mr, nr) = MicroKernel.Tile(job.Width);
        var br = Math.Min(BR, job.N - i0);
        var ld = RoundUp(br, mr);                                            // rows of every block buffer, padding included
        var bcMax = Math.Min(job.BCStep, RoundUp(job.M, nr));
        var block = ArrayPool<float>.Shared.Rent(ld * (job.DK + bcMax + job.DVPad + 2));  // per block, returned below
        try
        {
            fixed (float* buffer = block)
            {
                QueryBlock(job, i0, br, ld, bcMax, mr, nr, buffer);
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(block);
        }
    }

    private static void QueryBlock(Job job, int i0, int br, int ld, int bcMax, int mr, int nr, float* buffer)
    {
        var qs = buffer;                                                  // scale·Q_blk  [ld × d_k]
        var s = qs + (long)ld * job.DK;                                   // scores, then weights  [ld × bc]
        var o = s + (long)ld * bcMax;                                     // unnormalised output  [ld × dvPad]
        var runningMax = o + (long)ld * job.DVPad;                        // m, one per query
        var runningSum = runningMax + ld;                                 // ℓ, one per query
        LoadQueries(job, i0, br, ld, qs);
        new Span<float>(o, ld * job.DVPad).Clear();
        new Span<float>(runningMax, ld).Fill(float.NegativeInfinity);
        new Span<float>(runningSum, ld).Clear();
        var keyLimit = Math.Min(job.M, job.Mask?.CausalKeyLimit(i0 + br - 1) ?? job.M); // a causal mask hides every later key from the whole block
        for (var j0 = 0; j0 < keyLimit; j0 += job.BCStep)
        {
            var bc = Math.Min(job.BCStep, job.M - j0);
            var bcPad = RoundUp(bc, nr);
            // pass 1: S = (scale·Q_blk)·K_blkᵀ; keys j0 + jr … sit in the panel at kt + (j0 + jr)·d_k
            for (var jr = 0; jr < bcPad; jr += nr)
            {
                for (var ir = 0; ir < ld; ir += mr)
                {
                    MicroKernel.Run(job.Width, job.DK, qs + ir, ld, job.KT + (long)(j0 + jr) * job.DK, nr, s + ir + (long)jr * ld, ld, accumulate: false);
                }
            }
            if (job.Mask is { } mask)
            {
                MaskBlock.Add(mask, new Span<float>(s, ld * bc), ld, br, i0, j0, bc);
            }
            // pass 2: running max and sum, P = exp(S − m') in place, o rescaled
            OnlineSoftmax.Step(s, ld, ld, bc, runningMax, runningSum, o, job.DVPad, job.Width);
            // pass 3: o += P·V_blk; columns jr … of key j0 sit at vp + jr·m + j0·NR
            for (var jr = 0; jr < job.DVPad; jr += nr)
            {
                // At 512 bits a last panel of at most 4 real columns (d_v = 64 = 5 · 12 + 4) takes the 32 × 4 tile.
                var narrow = job.Width == SimdWidth.Vector512 && job.DV - jr <= GemmMicroKernel512.NarrowColumns;
                for (var ir = 0; ir < ld; ir += mr)
                {
                    var b = job.VP + (long)jr * job.M + (long)j0 * nr;
                    var c = o + ir + (long)jr * ld;
                    if (narrow)
                    {
                        GemmMicroKernel512.RunNarrow(bc, s + ir, ld, b, nr, c, ld, accumulate: true);
                    }
                    else
                    {
                        MicroKernel.Run(job.Width, bc, s + ir, ld, b, nr, c, ld, accumulate: true);
                    }
                }
            }
        }
        StoreOutput(job, i0, br, ld, o, runningSum);
    }

    private static void LoadQueries(Job job, int i0, int br, int ld, float* qs)
    {
        for (var p = 0; p < job.DK; p++)
        {
            var source = job.Q + i0 + (long)p * job.N;
            var target = new Span<float>(qs + (long)p * ld, ld);
            new ReadOnlySpan<float>(source, br).CopyTo(target);
            VectorOps.Scale(target[..br], job.Scale, job.Width);
            target[br..].Clear();                 // padding queries score 0 and are never stored
        }
    }

    private static void StoreOutput(Job job, int i0, int br, int ld, float* o, float* runningSum)
    {
        for (var i = 0; i < br; i++)
        {
            runningSum[i] = runningSum[i] == 0.0f ? 0.0f : 1.0f / runningSum[i];   // ℓ = 0: every key masked, a zero row
        }
        for (var d = 0; d < job.DV; d++)
        {
            var column = new ReadOnlySpan<float>(o + (long)d * ld, br);
            VectorOps.Multiply(column, new ReadOnlySpan<float>(runningSum, br), new Span<float>(job.Output + i0 + (long)d * job.N, br), job.Width);
        }
    }

    /// <summary>Kᵀ as the micro-kernel's B panels: panel r holds keys r·NR … r·NR+NR−1, and for each p their NR values K[j, p] side by side.</summary>
    private static void PackKeys(float* k, int m, int dk, float* kt, int mPad, int nr)
    {
        for (var j0 = 0; j0 < mPad; j0 += nr)
        {
            var keys = Math.Min(nr, m - j0);                                   // padding keys score 0 and are never used
            var panel = kt + (long)j0 * dk;
            for (var p = 0; p < dk; p++)
            {
                var source = k + j0 + (long)p * m;
                var target = panel + p * nr;
                for (var j = 0; j < nr; j++)
                {
                    target[j] = j < keys ? source[j] : 0.0f;            // NR floats: a loop beats a memmove call
                }
            }
        }
    }

    /// <summary>V as B panels: panel c holds columns c·NR … c·NR+NR−1, and for each key j their NR values V[j, d] side by side.</summary>
    private static void PackValues(float* v, int m, int dv, float* vp, int dvPad, int nr)
    {
        for (var d0 = 0; d0 < dvPad; d0 += nr)
        {
            var columns = Math.Min(nr, dv - d0);
            var panel = vp + (long)d0 * m;
            new Span<float>(panel, m * nr).Clear();                            // padding columns stay 0
            for (var d = 0; d < columns; d++)
            {
                var source = v + (long)(d0 + d) * m;
                for (var j = 0; j < m; j++)
                {
                    panel[j * nr + d] = source[j];
                }
            }
        }
    }

    private static int RoundUp(int value, int multiple) => (value + multiple - 1) / multiple * multiple;
}
