using Attention.Inference;
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
/// as a user would write it; <see cref="EncoderLayer.Forward(Matrix{float}, Mechanisms.AttentionMask?)"/> runs the inference fast path,
/// and the readable row the same lesson code with the fast path off.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(OneAndTwoCoresConfig))]
public class EncoderLayerBenchmarks
{
    private EncoderLayer _layer = null!;
    private Matrix<float> _x = null!;

    private IDisposable? _frozen;
    private readonly Matrix<float> _result = Matrix<float>.Build.Dense(512, 512);

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

    /// <summary>The same layer on the readable lesson path alone (<see cref="FastPath"/> off).</summary>
    [Benchmark]
    public Matrix<float> Readable_512x8x2048_seq512()
    {
        using (FastPath.Use(false))
        {
            return _layer.Forward(_x);
        }
    }

    /// <summary>The same call inside a <see cref="FrozenWeights"/> scope held across all iterations: every weight was packed
    /// for the product on the first call, as an inference server would run it.</summary>
    [GlobalSetup(Targets = [nameof(Layer_FrozenWeights), nameof(Layer_FrozenWeights_IntoResult)])]
    public void SetupFrozen()
    {
        Setup();
        _frozen = FrozenWeights.Begin(); // the engine runs every iteration on this thread, in this flow
    }

    [GlobalCleanup(Targets = [nameof(Layer_FrozenWeights), nameof(Layer_FrozenWeights_IntoResult)])]
    public void CleanupFrozen() => _frozen?.Dispose();

    [Benchmark]
    public Matrix<float> Layer_FrozenWeights() =>
        FrozenWeights.IsActive ? _layer.Forward(_x) : throw new InvalidOperationException("the scope did not reach the benchmark's thread");

    /// <summary>Frozen weights, and the result written into one matrix reused by every call (the overload with
    /// <c>result</c>): no 1 MB allocation per call, so no collections.</summary>
    [Benchmark]
    public Matrix<float> Layer_FrozenWeights_IntoResult()
    {
        if (!FrozenWeights.IsActive)
        {
            throw new InvalidOperationException("the scope did not reach the benchmark's thread");
        }
        _layer.Forward(_x, null, _result);
        return _result;
    }
}
