using Attention.Kernels;
using Attention.Mechanisms;
using Attention.Randomness;
using Attention.Tests.Support;
using Attention.Transformers;
using CsCheck;
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Tests.Properties;

/// <summary>
/// Properties of attention that must hold for every shape, mask, head count and value, checked by CsCheck on random
/// cases (shrunk to a small failing one when a check fails): sizes from 1 up past the vector widths and the 128-query
/// blocks; masks none, causal, key padding (down to no key at all) and random boolean. Each runs a few hundred cases
/// here and 50 times more with <c>ATTENTION_LONG=1</c>.
/// </summary>
[Trait("Category", "Properties")]
public class AttentionProperties
{
    private static long Iterations(long ci) => LongFactAttribute.Enabled ? ci * 50 : ci;

    /// <summary>n queries, m keys, d_k, d_v, a mask kind (0 none, 1 causal, 2 key padding, 3 boolean) and a seed.</summary>
    private static readonly Gen<(int N, int M, int Dk, int Dv, int Mask, int Seed)> Shapes =
        Gen.Select(Gen.Int[1, 150], Gen.Int[1, 150], Gen.Int[1, 40], Gen.Int[1, 20], Gen.Int[0, 3], Gen.Int[0, 1_000_000]);

    private static AttentionMask? Mask(int kind, int n, int m, int seed)
    {
        var random = new Random(seed);
        return kind switch
        {
            1 => AttentionMask.Causal,
            2 => AttentionMask.KeyPadding(keyCount: m, length: random.Next(0, m + 1)),   // length 0: every key hidden
            3 => AttentionMask.FromBoolean(Bools(n, m, random)),
            _ => null,
        };
    }

    private static bool[,] Bools(int n, int m, Random random)
    {
        var masked = new bool[n, m];
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j < m; j++)
            {
                masked[i, j] = random.NextDouble() < 0.3;
            }
        }
        return masked;
    }

    [Fact]
    public void Every_row_of_weights_sums_to_one_or_is_zero_when_all_its_keys_are_hidden() =>
        Shapes.Sample((n, m, dk, dv, kind, seed) =>
        {
            var mask = Mask(kind, n, m, seed);
            var (q, k, v) = (RandomMatrices.Uniform(n, dk, seed), RandomMatrices.Uniform(m, dk, seed + 1), RandomMatrices.Uniform(m, dv, seed + 2));
            var weights = ScaledDotProductAttention.Compute(q, k, v, mask).Weights;
            for (var i = 0; i < n; i++)
            {
                var hidden = Enumerable.Range(0, m).All(j => mask is not null && float.IsNegativeInfinity(mask.BiasAt(i, j)));
                var sum = weights.Row(i).Sum();
                if (hidden)
                {
                    weights.Row(i).Should().OnlyContain(w => w == 0f, $"row {i}: every key hidden, so zero by policy");
                }
                else
                {
                    sum.Should().BeApproximately(1f, 1e-5f * m, $"row {i} of [{n} × {m}]");
                }
            }
        }, iter: Iterations(200), threads: 1);

    [Fact]
    public void The_fused_kernel_computes_what_the_plain_path_computes() =>
        Shapes.Sample((n, m, dk, dv, kind, seed) =>
        {
            var mask = Mask(kind, n, m, seed);
            var (q, k, v) = (RandomMatrices.Uniform(n, dk, seed), RandomMatrices.Uniform(m, dk, seed + 1), RandomMatrices.Uniform(m, dv, seed + 2));
            Expect.Close(ScaledDotProductAttention.ComputeFused(q, k, v, mask), ScaledDotProductAttention.Compute(q, k, v, mask).Output,
                what: $"[{n} × {dk}] against [{m} × {dk}], d_v {dv}, mask {kind}");
        }, iter: Iterations(200), threads: 1);

    [Fact]
    public void Without_positions_permuting_the_tokens_permutes_the_output() =>
        Gen.Select(Gen.Int[1, 40], Gen.Int[0, 2], Gen.Int[1, 12], Gen.Int[0, 1_000_000]).Sample((n, headsLog, headDim, seed) =>
        {
            // Self-attention is a function of the set of tokens: attention(P·x) = P·attention(x) for a permutation P.
            var heads = 1 << headsLog;
            var attention = new MultiHeadAttention(heads * headDim, heads, new TorchGenerator(seed));
            var x = RandomMatrices.Uniform(n, heads * headDim, seed + 1);
            var order = Enumerable.Range(0, n).ToArray();
            new Random(seed).Shuffle(order);
            var permuted = Matrix<float>.Build.Dense(n, x.ColumnCount, (i, j) => x[order[i], j]);
            var output = attention.Forward(x, needWeights: false).Output;
            var expected = Matrix<float>.Build.Dense(n, x.ColumnCount, (i, j) => output[order[i], j]);
            Expect.Close(attention.Forward(permuted, needWeights: false).Output, expected, what: $"{n} tokens, {heads} heads of {headDim}");
        }, iter: Iterations(100), threads: 1);

    [Fact]
    public void Under_a_causal_mask_later_tokens_never_change_earlier_outputs() =>
        Gen.Select(Gen.Int[1, 70], Gen.Int[0, 1_000_000], Gen.Bool).Sample((n, seed, normFirst) =>
        {
            var layer = new EncoderLayer(LayerOptions.Small with { NormFirst = normFirst }, new TorchGenerator(seed));
            var x = RandomMatrices.Uniform(n, 64, seed + 1);
            var prefix = 1 + seed % n;
            var whole = layer.Forward(x, AttentionMask.Causal);
            var shorter = layer.Forward(x.SubMatrix(0, prefix, 0, 64), AttentionMask.Causal);
            Expect.Close(whole.SubMatrix(0, prefix, 0, 64), shorter, what: $"the first {prefix} of {n} rows");
        }, iter: Iterations(40), threads: 1);

    [Fact]
    public void Decoding_with_the_cache_equals_recomputing_every_step() =>
        Gen.Select(Gen.Int[1, 16], Gen.Int[1, 20], Gen.Int[0, 1_000_000]).Sample((steps, sourceLength, seed) =>
        {
            var decoder = new TransformerDecoder(LayerOptions.Small with { DecoderLayers = 2 }, new TorchGenerator(seed));
            var (target, memory) = (RandomMatrices.Uniform(steps, 64, seed + 1), RandomMatrices.Uniform(sourceLength, 64, seed + 2));
            var full = decoder.Forward(target, memory, AttentionMask.Causal);
            var cache = decoder.CreateCache();
            for (var t = 0; t < steps; t++)
            {
                var row = decoder.ForwardWithCache(target.SubMatrix(t, 1, 0, 64), memory, cache);
                Expect.Close(row.Row(0), full.Row(t), what: $"step {t} of {steps}");
            }
        }, iter: Iterations(30), threads: 1);

    [Fact]
    public void Every_vector_width_stays_within_the_rounding_bound_of_the_exact_product() =>
        Gen.Select(Gen.Int[1, 140], Gen.Int[1, 300], Gen.Int[1, 140], Gen.Int[0, 1_000_000]).Sample((m, k, n, seed) =>
        {
            // A float sum of k products can be off by about k·2⁻²⁴·Σ|aᵢ||bᵢ| (each addition rounds once, relative to the
            // magnitudes summed): a bound that holds even when the sum cancels, where ulps of the result would not.
            var (a, b) = (RandomMatrices.Uniform(m, k, seed), RandomMatrices.Uniform(k, n, seed + 1));
            var exact = new double[m, n];
            var magnitude = new double[m, n];
            for (var i = 0; i < m; i++)
            {
                for (var j = 0; j < n; j++)
                {
                    for (var p = 0; p < k; p++)
                    {
                        exact[i, j] += (double)a[i, p] * b[p, j];
                        magnitude[i, j] += Math.Abs((double)a[i, p] * b[p, j]);
                    }
                }
            }
            foreach (var width in SimdDispatch.Available)
            {
                using var _ = SimdDispatch.Force(width);
                var c = MatrixMultiply.Multiply(a, b);
                for (var i = 0; i < m; i++)
                {
                    for (var j = 0; j < n; j++)
                    {
                        var bound = 2.0 * k * Math.Pow(2, -24) * magnitude[i, j] + 1e-30;
                        Math.Abs(c[i, j] - exact[i, j]).Should().BeLessThanOrEqualTo(bound, $"C[{i}, {j}] of [{m} × {k}]·[{k} × {n}] at {width}");
                    }
                }
            }
        }, iter: Iterations(40), threads: 1);
}
