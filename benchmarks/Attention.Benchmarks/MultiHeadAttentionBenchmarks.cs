using Attention.Inference;
using Attention.Mechanisms;
using Attention.Randomness;
using Attention.Kernels;
using BenchmarkDotNet.Attributes;
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Benchmarks;

/// <summary>
/// nn.MultiheadAttention's size in the issue (E 512, 8 heads, 512 tokens), set beside PyTorch 1.13 on the same machine:
/// 10.7 ms on one core, 7.9 ms on two. The baseline keeps every head's [512 × 512] weights (the plain path: scores,
/// softmax, weights·V per head); the fused path never holds them.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(OneAndTwoCoresConfig))]
public class MultiHeadAttentionBenchmarks
{
    private MultiHeadAttention _attention = null!;
    private Matrix<float> _x = null!;

    private IDisposable? _frozen;

    [GlobalSetup]
    public void Setup()
    {
        _attention = new MultiHeadAttention(512, 8, new TorchGenerator(1));
        _x = new TorchGenerator(3).Randn(512, 512);
    }

    [Benchmark(Baseline = true)]
    public Matrix<float> WithWeights() => _attention.Forward(_x, needWeights: true).Output;

    [Benchmark]
    public Matrix<float> Fused_512x8_seq512() => _attention.Forward(_x, needWeights: false).Output;

    /// <summary>The same call on the readable lesson path alone (<see cref="FastPath"/> off): new matrices for Q, K, V,
    /// each head and the concatenation.</summary>
    [Benchmark]
    public Matrix<float> Readable_512x8_seq512()
    {
        using (FastPath.Use(false))
        {
            return _attention.Forward(_x, needWeights: false).Output;
        }
    }

    /// <summary>The same call inside a <see cref="FrozenWeights"/> scope held across all iterations: every weight was packed
    /// for the product on the first call, as an inference server would run it.</summary>
    [GlobalSetup(Target = nameof(Fused_FrozenWeights))]
    public void SetupFrozen()
    {
        Setup();
        _frozen = FrozenWeights.Begin(); // the engine runs every iteration on this thread, in this flow
    }

    [GlobalCleanup(Target = nameof(Fused_FrozenWeights))]
    public void CleanupFrozen() => _frozen?.Dispose();

    [Benchmark]
    public Matrix<float> Fused_FrozenWeights() =>
        FrozenWeights.IsActive ? _attention.Forward(_x, needWeights: false).Output : throw new InvalidOperationException("the scope did not reach the benchmark's thread");
}
