// softmax(Q·Kᵀ·scale + mask)·V without ever holding the [n × m] weights: flash attention (Dao et al., 2022) on the CPU.
// Queries go in blocks of BR; for each block the keys and values stream past in blocks of BC, and every query keeps a
// running maximum m, a running sum ℓ and an unnormalised output row o ("online softmax"):
//   pass 1  S = K_blk·Q_blkᵀ·scale + mask                       [BC × BR], one query's scores per contiguous column
//   pass 2  m' = max(m, max S);  P = exp(S − m');  c = exp(m − m')
//   pass 3  ℓ = c·ℓ + Σ P;   o = c·o + Pᵀ·V_blk
//   finally o / ℓ  (ℓ = 0 means every key was masked: the row is zero, the library's policy)
// Key blocks wholly after a causal query block are skipped. Memory: O(BR·BC + BR·d_v) scratch per thread, O(n·d) in all.
using System.Runtime.InteropServices;
using Attention.Mechanisms;

namespace Attention.Kernels;

internal static class FusedAttention
{
    private const int BR = 128; // queries per block (measured at n = 512: 128 × 256 blocks beat 64 × 128 by about 25%)
    private const int BC = 256; // keys per block

    [ThreadStatic]
    private static float[]? _scores;

    [ThreadStatic]
    private static float[]? _block;

    /// <summary>Output [n × d_v] (column-major, overwritten) of attention over Q [n × d_k], K [m × d_k], V [m × d_v], all column-major.</summary>
    public static void Forward(ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, Span<float> output,
        int n, int m, int dk, int dv, AttentionMask? mask, float scale)
    {
        var blocks = (n + BR - 1) / BR;
        if (blocks > 1 && Environment.ProcessorCount > 1 && (long)n * m * (dk + dv) >= 1L << 22)
        {
            unsafe
            {
                fixed (float* pq = q, pk = k, pv = v, po = output)
                {
                    var (aq, ak, av, ao) = ((nint)pq, (nint)pk, (nint)pv, (nint)po);
                    Parallel.For(0, blocks, block => QueryBlock(
                        new ReadOnlySpan<float>((float*)aq, n * dk), new ReadOnlySpan<float>((float*)ak, m * dk),
                        new ReadOnlySpan<float>((float*)av, m * dv), new Span<float>((float*)ao, n * dv), block * BR, n, m, dk, dv, mask, scale));
                }
            }
        }
        else
        {
            for (var block = 0; block < blocks; block++)
            {
                QueryBlock(q, k, v, output, block * BR, n, m, dk, dv, mask, scale);
            }
        }
    }

    private static void QueryBlock(ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, Span<float> output,
        int i0, int n, int m, int dk, int dv, AttentionMask? mask, float scale)
    {
        var width = SimdDispatch.Current;
        var br = Math.Min(BR, n - i0);
        var scores = Scratch.Rent(ref _scores, BC * BR);
        var block = Scratch.Rent(ref _block, 2 * BR * dv);
        var accumulator = block.AsSpan(0, br * dv);                    // o for this block's queries, [br × d_v]
        var contribution = block.AsSpan(br * dv, br * dv);             // Pᵀ·V_blk, [br × d_v]
        Span<float> runningMax = stackalloc float[br];
        Span<float> runningSum = stackalloc float[br];
        Span<float> correction = stackalloc float[br];
        runningMax.Fill(float.NegativeInfinity);
        runningSum.Clear();
        accumulator.Clear();
        var keyLimit = Math.Min(m, mask?.CausalKeyLimit(i0 + br - 1) ?? m); // a causal mask hides every key past this from the whole block
        for (var j0 = 0; j0 < keyLimit; j0 += BC)
        {
            var bc = Math.Min(BC, m - j0);
            var s = scores.AsSpan(0, bc * br);
            // pass 1: S[j, i] = K[j0 + j, :]·Q[i0 + i, :]·scale + mask   (K and Qᵀ read in place)
            Product.Multiply(k[j0..], 1, m, q[i0..], n, 1, s, bc, dk, br);
            VectorOps.Scale(s, scale, width);
            if (mask?.CausalKeyLimit(0) is not null)
            {
                for (var i = 0; i < br; i++)
                {
                    var visible = Math.Clamp(mask.CausalKeyLimit(i0 + i)!.Value - j0, 0, bc);   // keys j0 … j0+visible−1 are not in the future
                    s.Slice(i * bc + visible, bc - visible).Fill(float.NegativeInfinity);
                }
            }
            else if (mask is not null)
            {
                for (var i = 0; i < br; i++)
                {
                    for (var j = 0; j < bc; j++)
                    {
                        s[i * bc + j] += mask.BiasAt(i0 + i, j0 + j);
                    }
                }
            }
            // pass 2: per query, the new maximum, the exponentials, and the factor that rescales the earlier blocks
            for (var i = 0; i < br; i++)
            {
                var column = s.Slice(i * bc, bc);
                var newMax = MathF.Max(runningMax[i], VectorOps.Max(column, width));
                var shift = float.IsNegativeInfinity(newMax) ? 0.0f : newMax;
                correction[i] = float.IsNegativeInfinity(runningMax[i]) ? 0.0f : MathF.Exp(runningMax[i] - shift);
                runningSum[i] = runningSum[i] * correction[i] + VectorOps.ExpShiftedSum(column, shift, width);
                runningMax[i] = newMax;
            }
            // pass 3: o = o·correction + Pᵀ·V_blk   (Pᵀ[i, j] = S[j, i]; rows j0 … j0+bc of V read in place)
            Product.Multiply(s, bc, 1, v[j0..], 1, m, contribution, br, bc, dv);
            for (var d = 0; d < dv; d++)
            {
                VectorOps.ScaleAdd(accumulator.Slice(d * br, br), correction, contribution.Slice(d * br, br), width);
            }
        }
        for (var i = 0; i < br; i++)
        {
            correction[i] = runningSum[i] == 0.0f ? 0.0f : 1.0f / runningSum[i];   // ℓ = 0: every key masked, a zero row
        }
        for (var d = 0; d < dv; d++)
        {
            var target = output.Slice(i0 + d * n, br);
            accumulator.Slice(d * br, br).CopyTo(target);
            for (var i = 0; i < br; i++)
            {
                target[i] *= correction[i];
            }
        }
    }

}
