using System.Numerics.Tensors;
using Attention.Kernels;
using BenchmarkDotNet.Attributes;

namespace Attention.Benchmarks;

/// <summary>
/// Softmax of n contiguous rows of n logits (attention's transposed scores): the scalar reference (baseline), our SIMD
/// kernel (max subtracted, one exp per element), and TensorPrimitives.SoftMax per row (no max subtraction, two exps per
/// element). Ours works in place and TensorPrimitives writes a second buffer; repeated softmax keeps values in [0, 1],
/// so every call does the same work.
/// </summary>
[MemoryDiagnoser]
public class SoftmaxBenchmarks
{
    private float[] _logits = [];
    private float[] _work = [];

    [Params(512, 2048)]
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
        _work = (float[])_logits.Clone();
    }

    [Benchmark(Baseline = true)]
    public void ScalarReference() => ColumnSoftmaxReference.Apply(_work, N, N);

    [Benchmark]
    public void Simd() => Softmax.Columns(_work, N, N);

    [Benchmark]
    public void TensorPrimitivesPerRow()
    {
        for (var i = 0; i < N; i++)
        {
            TensorPrimitives.SoftMax(_logits.AsSpan(i * N, N), _work.AsSpan(i * N, N));
        }
    }
}
