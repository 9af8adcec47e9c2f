using System.Numerics.Tensors;
using Attention.Kernels;
using BenchmarkDotNet.Attributes;

namespace Attention.Benchmarks;

/// <summary>
/// Softmax over every row of an n × n matrix: the scalar reference (baseline), our SIMD kernel (max-subtracted, vector
/// lanes across rows of the column-major storage), and TensorPrimitives.SoftMax applied row by row to row-major data
/// (which does not subtract the maximum, so it overflows on large logits).
/// </summary>
[MemoryDiagnoser]
public class RowSoftmaxBenchmarks
{
    private float[] _logits = [];
    private float[] _work = [];

    [Params(67, 512)]
    public int N { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(42);
        _logits = new float[N * N];
        for (var i = 0; i < _logits.Length; i++)
        {
            _logits[i] = (float)(random.NextDouble() * 8.0 - 4.0);
        }
        _work = new float[N * N];
    }

    [Benchmark(Baseline = true)]
    public void ScalarReference()
    {
        _logits.CopyTo(_work, 0);
        RowSoftmaxReference.Apply(_work, N, N);
    }

    [Benchmark]
    public void Simd()
    {
        _logits.CopyTo(_work, 0);
        RowSoftmax.Apply(_work, N, N);
    }

    [Benchmark]
    public void TensorPrimitivesPerRow()
    {
        for (var i = 0; i < N; i++)
        {
            TensorPrimitives.SoftMax(_logits.AsSpan(i * N, N), _work.AsSpan(i * N, N));
        }
    }
}
