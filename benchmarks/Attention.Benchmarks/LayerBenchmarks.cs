using Attention.Mechanisms;
using Attention.Randomness;
using Attention.Transformers;
using BenchmarkDotNet.Attributes;
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Benchmarks;

/// <summary>
/// Whole layers at the sizes, to set beside PyTorch 1.13 on the same machine (one core / two cores):
/// nn.MultiheadAttention(512, 8) on 512 tokens: 10.7 / 7.9 ms; nn.TransformerEncoderLayer(512, 8, 2048) on 512 tokens: 22.8 / 12.8 ms.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(OneAndTwoCoresConfig))]
public class LayerBenchmarks
{
    private MultiHeadAttention _attention = null!;
    private EncoderLayer _encoderLayer = null!;
    private Matrix<float> _x = null!;

    [GlobalSetup]
    public void Setup()
    {
        var options = new TransformerOptions { Dropout = 0 }; // the paper's base sizes: d_model 512, h 8, d_ff 2048
        _attention = new MultiHeadAttention(512, 8, new TorchGenerator(1));
        _encoderLayer = new EncoderLayer(options, new TorchGenerator(2));
        _x = new TorchGenerator(3).Randn(512, 512);
    }

    [Benchmark]
    public Matrix<float> MultiHeadAttention_512x8_seq512() => _attention.Forward(_x, needWeights: false).Output;

    [Benchmark]
    public Matrix<float> EncoderLayer_512x8x2048_seq512() => _encoderLayer.Forward(_x);
}
