using Attention.Mechanisms;
using Attention.Randomness;
using BenchmarkDotNet.Attributes;
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Benchmarks;

/// <summary>
/// softmax(Q·Kᵀ/√d)·V at sequence length n, d = 64: plain MathNet (baseline, O(n²) weights), our unfused path that also
/// returns the weights, and the fused flash-style kernel (O(n·d) memory), without and with a causal mask.
/// PyTorch 1.13 on this machine: 10.7 ms on one core, 7.9 ms on two, at n = 2048.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(OneAndTwoCoresConfig))]
public class FusedAttentionBenchmarks
{
    private Matrix<float> _q = null!;
    private Matrix<float> _k = null!;
    private Matrix<float> _v = null!;

    [Params(512, 2048)]
    public int N { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var generator = new TorchGenerator(5);
        (_q, _k, _v) = (generator.Randn(N, 64), generator.Randn(N, 64), generator.Randn(N, 64));
    }

    [Benchmark(Baseline = true)]
    public Matrix<float> MathNetUnfused()
    {
        var scores = _q.TransposeAndMultiply(_k) / 8.0f; // √64
        for (var i = 0; i < scores.RowCount; i++)
        {
            var row = scores.Row(i);
            var e = (row - row.Maximum()).PointwiseExp();
            scores.SetRow(i, e / e.Sum());
        }
        return scores * _v;
    }

    [Benchmark]
    public Matrix<float> OursWithWeights() => ScaledDotProductAttention.Compute(_q, _k, _v).Output;

    [Benchmark]
    public Matrix<float> Fused() => ScaledDotProductAttention.ComputeFused(_q, _k, _v);

    [Benchmark]
    public Matrix<float> FusedCausal() => ScaledDotProductAttention.ComputeFused(_q, _k, _v, AttentionMask.Causal);
}
