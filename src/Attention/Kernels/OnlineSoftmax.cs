// One step of the online softmax (Milakov & Gimelshein, 2018) for a block of scores that holds one query per vector lane:
// S is column-major [rows × bc], so column j is key j's score against every query of the block, and each query's running
// maximum m, running sum ℓ and output row o advance with plain element-wise vector operations, no horizontal reductions:
//   m' = max(m, maxⱼ S[:, j])         (a fully masked query keeps m' = −∞ and uses the shift 0)
//   c  = exp(m − m')                   the factor that rescales what earlier key blocks contributed
//   S[:, j] ← exp(S[:, j] − m')        the unnormalised weights P, in place
//   ℓ' = c·ℓ + Σⱼ P[:, j];   o ← c·o   (the caller then adds P·V_blk to o)
// NaN scores make NaN weights and so a NaN output row; −∞ scores give weight 0.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Attention.Kernels;

internal static unsafe class OnlineSoftmax
{
    /// <summary>Advances m, ℓ and o over one block of scores and turns the block into its unnormalised weights.</summary>
    /// <param name="s">Scores [rows × bc], column-major with column stride <paramref name="ld"/>; overwritten by exp(S − m').</param>
    /// <param name="ld">Column stride of <paramref name="s"/> and <paramref name="o"/>.</param>
    /// <param name="rows">Queries in the block; a multiple of the vector width (padding rows are computed and ignored).</param>
    /// <param name="bc">Keys in the block.</param>
    /// <param name="runningMax">m, one per query, −∞ before the first block.</param>
    /// <param name="runningSum">ℓ, one per query, 0 before the first block.</param>
    /// <param name="o">The unnormalised output [rows × dv] with column stride <paramref name="ld"/>, rescaled by c.</param>
    /// <param name="dv">Columns of <paramref name="o"/>.</param>
    /// <param name="width">The vector width to use.</param>
    public static void Step(float* s, int ld, int rows, int bc, float* runningMax, float* runningSum, float* o, int dv, SimdWidth width)
    {
        switch (width)
        {
            case SimdWidth.Vector512:
                for (var i = 0; i < rows; i += Vector512<float>.Count)
                {
                    Step512(s + i, ld, bc, runningMax + i, runningSum + i, o + i, dv);
                }
                break;
            case SimdWidth.Vector256:
                for (var i = 0; i < rows; i += Vector256<float>.Count)
                {
                    Step256(s + i, ld, bc, runningMax + i, runningSum + i, o + i, dv);
                }
                break;
            case SimdWidth.Vector128:
                for (var i = 0; i < rows; i += Vector128<float>.Count)
                {
                    Step128(s + i, ld, bc, runningMax + i, runningSum + i, o + i, dv);
                }
                break;
            default:
                for (var i = 0; i < rows; i++)
                {
                    StepScalar(s + i, ld, bc, runningMax + i, runningSum + i, o + i, dv);
                }
                break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot from the first call: do not wait for tiering to optimise it
    private static void Step512(float* s, int ld, int bc, float* runningMax, float* runningSum, float* o, int dv)
    {
        var previous = Vector512.Load(runningMax);
        var max = previous;
        for (var j = 0; j < bc; j++)
        {
            max = Vector512.MaxNative(max, Vector512.Load(s + (long)j * ld));
        }
        var shift = Vector512.ConditionalSelect(Vector512.Equals(max, Vector512.Create(float.NegativeInfinity)), Vector512<float>.Zero, max);
        var correction = VectorExp.ExpNonPositive(previous - shift);
        var sum = Vector512<float>.Zero;
        for (var j = 0; j < bc; j++)
        {
            var p = VectorExp.ExpNonPositive(Vector512.Load(s + (long)j * ld) - shift);
            p.Store(s + (long)j * ld);
            sum += p;
        }
        Vector512.FusedMultiplyAdd(Vector512.Load(runningSum), correction, sum).Store(runningSum);
        max.Store(runningMax);
        for (var d = 0; d < dv; d++)
        {
            (Vector512.Load(o + (long)d * ld) * correction).Store(o + (long)d * ld);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot from the first call: do not wait for tiering to optimise it
    private static void Step256(float* s, int ld, int bc, float* runningMax, float* runningSum, float* o, int dv)
    {
        var previous = Vector256.Load(runningMax);
        var max = previous;
        for (var j = 0; j < bc; j++)
        {
            max = Vector256.MaxNative(max, Vector256.Load(s + (long)j * ld));
        }
        var shift = Vector256.ConditionalSelect(Vector256.Equals(max, Vector256.Create(float.NegativeInfinity)), Vector256<float>.Zero, max);
        var correction = VectorExp.ExpNonPositive(previous - shift);
        var sum = Vector256<float>.Zero;
        for (var j = 0; j < bc; j++)
        {
            var p = VectorExp.ExpNonPositive(Vector256.Load(s + (long)j * ld) - shift);
            p.Store(s + (long)j * ld);
            sum += p;
        }
        Vector256.FusedMultiplyAdd(Vector256.Load(runningSum), correction, sum).Store(runningSum);
        max.Store(runningMax);
        for (var d = 0; d < dv; d++)
        {
            (Vector256.Load(o + (long)d * ld) * correction).Store(o + (long)d * ld);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot from the first call: do not wait for tiering to optimise it
    private static void Step128(float* s, int ld, int bc, float* runningMax, float* runningSum, float* o, int dv)
    {
        var previous = Vector128.Load(runningMax);
        var max = previous;
        for (var j = 0; j < bc; j++)
        {
            max = Vector128.MaxNative(max, Vector128.Load(s + (long)j * ld));
        }
        var shift = Vector128.ConditionalSelect(Vector128.Equals(max, Vector128.Create(float.NegativeInfinity)), Vector128<float>.Zero, max);
        var correction = VectorExp.ExpNonPositive(previous - shift);
        var sum = Vector128<float>.Zero;
        for (var j = 0; j < bc; j++)
        {
            var p = VectorExp.ExpNonPositive(Vector128.Load(s + (long)j * ld) - shift);
            p.Store(s + (long)j * ld);
            sum += p;
        }
        Vector128.FusedMultiplyAdd(Vector128.Load(runningSum), correction, sum).Store(runningSum);
        max.Store(runningMax);
        for (var d = 0; d < dv; d++)
        {
            (Vector128.Load(o + (long)d * ld) * correction).Store(o + (long)d * ld);
        }
    }

    private static void StepScalar(float* s, int ld, int bc, float* runningMax, float* runningSum, float* o, int dv)
    {
        var previous = *runningMax;
        var max = previous;
        for (var j = 0; j < bc; j++)
        {
            max = MathF.Max(max, s[(long)j * ld]);
        }
        var shift = float.IsNegativeInfinity(max) ? 0.0f : max;
        var correction = MathF.Exp(previous - shift);
        var sum = 0.0f;
        for (var j = 0; j < bc; j++)
        {
            var p = MathF.Exp(s[(long)j * ld] - shift);
            s[(long)j * ld] = p;
            sum += p;
        }
        *runningSum = *runningSum * correction + sum;
        *runningMax = max;
        for (var d = 0; d < dv; d++)
        {
            o[(long)d * ld] *= correction;
        }
    }
}
