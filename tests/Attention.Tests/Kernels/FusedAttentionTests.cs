using Attention.Kernels;
using Attention.Mechanisms;
using Attention.Tests.Support;
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Tests.Kernels;

/// <summary>Flash-style attention (online softmax over key blocks) against the plain path that holds all the weights.</summary>
public class FusedAttentionTests
{
    public static TheoryData<int, int, int, int, int, string> Cases()
    {
        var data = new TheoryData<int, int, int, int, int, string>();
        foreach (var width in SimdDispatch.Available)
        {
            // Awkward sizes around the vector widths (16, 8, 4), the register tile (32 × 12, 16 × 6, 4 × 4) and the blocks
            // (128 queries, up to 256 keys); the last case has several query and key blocks and runs on every core.
            foreach (var (n, m, dk, dv) in new[]
            {
                (1, 1, 1, 1), (3, 5, 4, 6), (15, 16, 17, 3), (17, 15, 16, 3), (63, 64, 65, 16), (64, 63, 15, 64),
                (65, 257, 8, 7), (130, 129, 64, 64), (257, 300, 64, 65),
            })
            {
                foreach (var mask in new[] { "none", "causal", "padding", "additive", "boolean", "combined" })
                {
                    data.Add((int)width, n, m, dk, dv, mask);
                }
            }
        }
        return data;
    }

    private static AttentionMask? Mask(string kind, int n, int m) => kind switch
    {
        "causal" => AttentionMask.Causal,
        "padding" => AttentionMask.KeyPadding(m, Math.Max(1, m - 3)),
        "additive" => AttentionMask.Additive(RandomMatrices.Uniform(n, m, 99) * 2),
        "boolean" => AttentionMask.FromBoolean(Hidden(n, m)),
        "combined" => AttentionMask.Combine(AttentionMask.CausalFrom(2), AttentionMask.KeyPadding(m, Math.Max(1, m - 3)), AttentionMask.Additive(RandomMatrices.Uniform(n, m, 98))),
        _ => null,
    };

    /// <summary>Every third (query, key) pair hidden, but never key 0, so every query keeps a key.</summary>
    private static bool[,] Hidden(int n, int m)
    {
        var hidden = new bool[n, m];
        for (var i = 0; i < n; i++)
        {
            for (var j = 1; j < m; j++)
            {
                hidden[i, j] = (i + 2 * j) % 3 == 0;
            }
        }
        return hidden;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void It_equals_the_unfused_output(int widthBits, int n, int m, int dk, int dv, string mask)
    {
        var width = (SimdWidth)widthBits; // xUnit theories of public tests cannot take the internal enum
        var (q, k, v) = (RandomMatrices.Uniform(n, dk, 1) * 2, RandomMatrices.Uniform(m, dk, 2) * 2, RandomMatrices.Uniform(m, dv, 3));
        var expected = ScaledDotProductAttention.Compute(q, k, v, Mask(mask, n, m)).Output;
        using var _ = SimdDispatch.Force(width);
        Expect.Close(ScaledDotProductAttention.ComputeFused(q, k, v, Mask(mask, n, m)), expected, what: $"fused [{n}×{dk}], [{m}×{dv}], {mask}, {width}");
    }

    [Fact]
    public void A_fully_masked_query_gives_a_zero_row_and_others_are_unchanged()
    {
        var (q, k, v) = (RandomMatrices.Uniform(70, 8, 4), RandomMatrices.Uniform(200, 8, 5), RandomMatrices.Uniform(200, 4, 6));
        var flags = new bool[70, 200];
        for (var j = 0; j < 200; j++)
        {
            flags[3, j] = true;
        }
        var mask = AttentionMask.FromBoolean(flags);
        var fused = ScaledDotProductAttention.ComputeFused(q, k, v, mask);
        fused.Row(3).Should().OnlyContain(x => x == 0.0f);
        Expect.Close(fused, ScaledDotProductAttention.Compute(q, k, v, mask).Output);
    }

    [Fact]
    public void A_NaN_in_one_query_makes_that_row_NaN_and_leaves_the_others_alone()
    {
        // Policy: NaN is not hidden. A NaN score turns the whole softmax row NaN, as in PyTorch; other queries never see it.
        var (q, k, v) = (RandomMatrices.Uniform(40, 8, 10), RandomMatrices.Uniform(300, 8, 11), RandomMatrices.Uniform(300, 5, 12));
        var clean = ScaledDotProductAttention.Compute(q, k, v).Output;
        q[7, 3] = float.NaN;

        foreach (var width in SimdDispatch.Available)
        {
            using var _ = SimdDispatch.Force(width);
            var fused = ScaledDotProductAttention.ComputeFused(q, k, v);
            fused.Row(7).Should().OnlyContain(x => float.IsNaN(x), $"at {width}");
            fused.RemoveRow(7).Should().Match<Matrix<float>>(f => f.Enumerate().All(float.IsFinite), $"at {width}");
            Expect.Close(fused.RemoveRow(7), clean.RemoveRow(7), what: $"the other rows at {width}");
        }
    }

    [Fact]
    public void Huge_scores_stay_finite_and_pick_the_one_key_that_wins()
    {
        // Every query is [100 100 100 100]; the keys are uniform in [−100, 100) except key 123 = [100 100 100 100].
        // Its score is 4 · 100 · 100 / √4 = 20,000, and every other key scores at least ~100 less (its components
        // would all have to be within 0.5 of 100), so exp(other − max) underflows to 0: each output row is exactly
        // value row 123, with no overflow on the way (a softmax that did not subtract the maximum would give ∞/∞).
        var q = Matrix<float>.Build.Dense(20, 4, 100.0f);
        var k = RandomMatrices.Uniform(300, 4, 7) * 100;
        k.SetRow(123, [100f, 100f, 100f, 100f]);
        var v = RandomMatrices.Uniform(300, 2, 8);
        foreach (var width in SimdDispatch.Available)
        {
            using var _ = SimdDispatch.Force(width);
            var fused = ScaledDotProductAttention.ComputeFused(q, k, v);
            for (var i = 0; i < 20; i++)
            {
                fused.Row(i).Should().Equal(v.Row(123), $"query {i} at {width}");
            }
        }
    }

    [Fact]
    public void The_span_entry_point_runs_heads_side_by_side_like_separate_calls()
    {
        // Two heads with d_k = 5, d_v = 3: head h owns columns h·5 … h·5+4 of q and k and h·3 … h·3+2 of v and the output.
        var (n, m) = (7, 9);
        var (q, k, v) = (RandomMatrices.Uniform(n, 10, 11), RandomMatrices.Uniform(m, 10, 12), RandomMatrices.Uniform(m, 6, 13));
        var output = new float[n * 6];
        FusedAttention.Forward(q.ToColumnMajorArray(), k.ToColumnMajorArray(), v.ToColumnMajorArray(), output, n, m, 5, 3, AttentionMask.Causal, 0.5f, heads: 2);
        for (var h = 0; h < 2; h++)
        {
            var expected = ScaledDotProductAttention.Compute(q.SubMatrix(0, n, h * 5, 5), k.SubMatrix(0, m, h * 5, 5), v.SubMatrix(0, m, h * 3, 3),
                AttentionMask.Causal, scale: 0.5f).Output;
            Expect.Close(Matrix<float>.Build.Dense(n, 6, output).SubMatrix(0, n, h * 3, 3), expected, what: $"head {h}");
        }
    }

    [Fact]
    public void The_span_entry_point_refuses_short_spans_a_mask_that_does_not_fit_and_no_heads()
    {
        var (q, k, v) = (new float[4 * 8], new float[6 * 8], new float[6 * 4]);
        var shortOutput = () => FusedAttention.Forward(q, k, v, new float[7], 4, 6, 8, 2, null, 1.0f, heads: 1);
        shortOutput.Should().Throw<ArgumentException>().WithParameterName("output").WithMessage("*[4 × 2] = 8 floats*has 7*");
        var twoHeads = () => FusedAttention.Forward(q, k, v, new float[16], 4, 6, 4, 2, null, 1.0f, heads: 2);
        twoHeads.Should().NotThrow("two heads of d_k 4 fit in the same spans");
        var tooWide = () => FusedAttention.Forward(q, k, v, new float[16], 4, 6, 8, 2, null, 1.0f, heads: 2);
        tooWide.Should().Throw<ArgumentException>().WithParameterName("q").WithMessage("*[4 × 16] = 64 floats*has 32*");
        var mask = () => FusedAttention.Forward(q, k, v, new float[8], 4, 6, 8, 2, AttentionMask.KeyPadding(5, 5), 1.0f);
        mask.Should().Throw<ArgumentException>().WithParameterName("mask");
        var noHeads = () => FusedAttention.Forward(q, k, v, new float[8], 4, 6, 8, 2, null, 1.0f, heads: 0);
        noHeads.Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void No_keys_means_every_query_is_fully_masked_and_gets_a_zero_row()
    {
        var output = new float[] { 7, 7, 7, 7, 7, 7 };
        FusedAttention.Forward(new float[3 * 4], [], [], output, 3, 0, 4, 2, null, 0.5f);
        output.Should().Equal(0, 0, 0, 0, 0, 0);
    }

    [Theory]
    [InlineData(512, 512, "causal+padding")]
    [InlineData(512, 300, "padding")]
    [InlineData(512, 512, "none")]
    public void Eight_heads_of_64_over_512_queries_agree_with_attention_computed_in_double(int n, int m, string maskKind)
    {
        // The size of one layer of the paper's base model (d_model 512 = 8 heads of 64) at 512 tokens, against a
        // reference that computes every score, exponential and sum in double: no float32 path checks itself here.
        const int heads = 8, d = 64;
        var (q, k, v) = (RandomMatrices.Uniform(n, heads * d, 31), RandomMatrices.Uniform(m, heads * d, 32), RandomMatrices.Uniform(m, heads * d, 33));
        var padding = AttentionMask.KeyPadding(keyCount: m, length: m - 37);
        var mask = maskKind switch
        {
            "causal+padding" => AttentionMask.Combine(AttentionMask.Causal, padding),
            "padding" => padding,
            _ => null,
        };
        var output = new float[n * heads * d];
        FusedAttention.Forward(q.ToColumnMajorArray(), k.ToColumnMajorArray(), v.ToColumnMajorArray(), output, n, m, d, d, mask, 0.125f, heads);
        var expected = DoubleReference(q, k, v, heads, d, mask);
        Expect.Close(Matrix<float>.Build.Dense(n, heads * d, output), expected, relative: 1e-5f, absolute: 1e-6f, what: $"8 heads, {n} × {m}, {maskKind}");
    }

    /// <summary>softmax(Q_h·K_hᵀ/8 + mask)·V_h for each head h, in double throughout, rounded to float at the end.</summary>
    private static Matrix<float> DoubleReference(Matrix<float> q, Matrix<float> k, Matrix<float> v, int heads, int d, AttentionMask? mask)
    {
        var (n, m) = (q.RowCount, k.RowCount);
        var (qs, ks, vs) = (q.ToColumnMajorArray(), k.ToColumnMajorArray(), v.ToColumnMajorArray()); // (i, p) at i + p·rows
        var result = Matrix<float>.Build.Dense(n, heads * d);
        var weights = new double[m];
        for (var h = 0; h < heads; h++)
        {
            for (var i = 0; i < n; i++)
            {
                var max = double.NegativeInfinity;
                for (var j = 0; j < m; j++)
                {
                    var score = 0.0;
                    for (var p = h * d; p < (h + 1) * d; p++)
                    {
                        score += (double)qs[i + p * n] * ks[j + p * m];
                    }
                    weights[j] = score / Math.Sqrt(d) + (mask?.BiasAt(i, j) ?? 0.0f);
                    max = Math.Max(max, weights[j]);
                }
                var sum = 0.0;
                for (var j = 0; j < m; j++)
                {
                    weights[j] = double.IsNegativeInfinity(weights[j]) ? 0.0 : Math.Exp(weights[j] - max);
                    sum += weights[j];
                }
                for (var c = h * d; c < (h + 1) * d; c++)
                {
                    var z = 0.0;
                    for (var j = 0; j < m; j++)
                    {
                        z += weights[j] * vs[j + c * m];
                    }
                    result[i, c] = (float)(z / sum);
                }
            }
        }
        return result;
    }
}
