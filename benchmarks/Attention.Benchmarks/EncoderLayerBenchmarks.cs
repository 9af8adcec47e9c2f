using Attention.Randomness;
using Attention.Transformers;
using Attention.Kernels;
using BenchmarkDotNet.Attributes;
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Benchmarks;

/// <summary>
/// nn.TransformerEncoderLayer's size in the issue (d_model 512, 8 heads, d_ff 2048, post-norm, ReLU, 512 tokens), set
/// beside PyTorch 1.13 on the same machine: 22.8 ms on one core, 12.8 ms on two. The baseline composes the same layer
/// from the public matrix calls (Norm1(x + Attention(x)), then Norm2(x₁ + FFN(x₁))) with attention keeping its weights,
/// as a user would write it; <see cref="EncoderLayer.Forward"/> passes spans between fused sub-layers.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(OneAndTwoCoresConfig))]
public class EncoderLayerBenchmarks
{
    private EncoderLayer _layer = null!;
    private Matrix<float> _x = null!;

    private IDisposable? _frozen;

    [GlobalSetup]
    public void Setup()
    {
        _layer = new EncoderLayer(new TransformerOptions { Dropout = 0 }, new TorchGenerator(2)); // the paper's base sizes
        _x = new TorchGenerator(3).Randn(512, 512);
    }

    [Benchmark(Baseline = true)]
    public Matrix<float> FromPublicSublayers()
    {
        var x1 = _layer.Norm1.Forward(_x, _layer.SelfAttention.Forward(_x, needWeights: true).Output);
        return _layer.Norm2.Forward(x1, _layer.FeedForward.Forward(x1));
    }

    [Benchmark]
    public Matrix<float> Layer_512x8x2048_seq512() => _layer.Forward(_x);

    /// <summary>The same call inside a <see cref="FrozenWeights"/> scope held across all iterations: every weight was packed
    /// for the product on the first call, as an inference server would run it.</summary>
    [GlobalSetup(Target = nameof(Layer_FrozenWeights))]
    public void SetupFrozen()
    {
        Setup();
        _frozen = FrozenWeights.Begin(); // the engine runs every iteration on this thread, in this flow
    }

    [GlobalCleanup(Target = nameof(Layer_FrozenWeights))]
    public void CleanupFrozen() => _frozen?.Dispose();

    [Benchmark]
    public Matrix<float> Layer_FrozenWeights() =>
        FrozenWeights.IsActive ? _layer.Forward(_x) : throw new InvalidOperationException("the scope did not reach the benchmark's thread");
}
